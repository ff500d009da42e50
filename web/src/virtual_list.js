// Rows of a fixed height in a scrolling element, of which only those in
// view (and a few either side) exist in the DOM: a run of 10,000 events
// costs the same as one of 30. One list can fill several columns (the
// trace's tree and its timeline): renderRow(i) returns one element per
// column, and each goes into its column at the row's offset.

export class VirtualList {
  // scroller: the element that scrolls; body: the element whose height
  // stands for all rows (its top may sit below a sticky header inside
  // the scroller); columns: where row elements go.
  constructor({ scroller, body, columns, rowHeight, renderRow, overscan = 8 }) {
    this.scroller = scroller;
    this.body = body;
    this.columns = columns;
    this.rowHeight = rowHeight;
    this.renderRow = renderRow;
    this.overscan = overscan;
    this.count = 0;
    this.rows = new Map();  // index -> [element per column]
    this.first = 0;
    this.last = -1;
    this.pending = false;
    this.onScroll = () => this.schedule();
    scroller.addEventListener('scroll', this.onScroll, { passive: true });
    this.resizer = new ResizeObserver(() => this.schedule());
    this.resizer.observe(scroller);
  }

  setCount(n) {
    this.count = n;
    this.body.style.height = n * this.rowHeight + 'px';
    this.refresh();
  }

  // Rebuilds every row in view (after the data behind them changed).
  refresh() {
    for (const els of this.rows.values()) for (const el of els) el.remove();
    this.rows.clear();
    this.first = 0;
    this.last = -1;
    this.update();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.update(); });
  }

  // Which rows are in view: from the scroll offset past the body's top.
  range() {
    const top = this.scroller.scrollTop - this.body.offsetTop;
    const height = this.scroller.clientHeight;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - this.overscan);
    const last = Math.min(this.count - 1, Math.ceil((top + height) / this.rowHeight) + this.overscan);
    return [first, last];
  }

  update() {
    const [first, last] = this.range();
    for (const [i, els] of this.rows) {
      if (i < first || i > last) {
        for (const el of els) el.remove();
        this.rows.delete(i);
      }
    }
    for (let i = first; i <= last; i++) {
      if (this.rows.has(i)) continue;
      const els = this.renderRow(i);
      els.forEach((el, c) => {
        el.style.top = i * this.rowHeight + 'px';
        this.columns[c].appendChild(el);
      });
      this.rows.set(i, els);
    }
    this.first = first;
    this.last = last;
  }

  // Scrolls the least needed to bring row i into view.
  scrollToIndex(i, { center = false } = {}) {
    const rowTop = this.body.offsetTop + i * this.rowHeight;
    const headerSpace = this.body.offsetTop;  // a sticky header covers the top
    const viewTop = this.scroller.scrollTop + headerSpace;
    const viewBottom = this.scroller.scrollTop + this.scroller.clientHeight;
    if (center) this.scroller.scrollTop = rowTop - this.scroller.clientHeight / 2;
    else if (rowTop < viewTop) this.scroller.scrollTop = rowTop - headerSpace;
    else if (rowTop + this.rowHeight > viewBottom) this.scroller.scrollTop = rowTop + this.rowHeight - this.scroller.clientHeight;
    this.update();
  }

  rowsInView() {
    return this.rows;
  }

  destroy() {
    this.scroller.removeEventListener('scroll', this.onScroll);
    this.resizer.disconnect();
  }
}
