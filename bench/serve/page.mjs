// Times the page in headless Chromium: the runs list of a large store
// (until its first row shows) and a long run's page (until its tree shows,
// then until a click on an event shows that event: interactive).
//   node page.mjs URL RUN_ID EVENTS
import { createRequire } from 'module';
import { fileURLToPath } from 'url';
import path from 'path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/node/package.json'));
const { chromium } = require('playwright-core');

const [url, runId, events] = process.argv.slice(2);
const base = url.split('/?')[0];
const token = url.split('token=')[1];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(url);  // (sets the token's cookie)
  await page.locator('[data-testid=run-row]').first().waitFor();
  const list = [], shown = [], interactive = [];
  for (let i = 0; i < 3; ++i) {
    let start = Date.now();
    await page.goto(`${base}/?token=${token}`);
    await page.locator('[data-testid=run-row]').first().waitFor();
    list.push(Date.now() - start);

    start = Date.now();
    await page.goto(`${base}/runs/${runId}?token=${token}`);
    const rows = page.locator('[data-testid=tree-row]');
    await rows.first().waitFor();
    shown.push(Date.now() - start);
    const row = rows.nth(5);
    const seq = await row.getAttribute('data-seq');
    await row.click();
    await page.locator(`[data-testid=event-detail][data-seq="${seq}"]`).waitFor();
    interactive.push(Date.now() - start);
  }
  const inDom = await page.locator('[data-testid=tree-row]').count();
  console.log(`  ${'the runs list: first row shown'.padEnd(44)} ${String(median(list)).padStart(6)} ms`);
  console.log(`  ${`a run of ${events} events: its tree shown`.padEnd(44)} ${String(median(shown)).padStart(6)} ms`);
  console.log(`  ${'... and an event clicked open (target < 1 s)'.padEnd(44)} ${String(median(interactive)).padStart(6)} ms`);
  console.log(`  (tree rows in the page: ${inDom} of ${events})`);
} finally {
  await browser.close();
}
