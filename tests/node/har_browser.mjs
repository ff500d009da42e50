// A real browser's HTTP archive: Debian's Chromium, driven by playwright-core,
// loads URL with the context recording a HAR (bodies embedded), waits for the
// page's script to finish its API calls (it sets the title to "done"), prints
// what the page shows (#out), and closes the context, which writes the HAR.
//   node har_browser.mjs URL HAR_PATH
import { chromium } from 'playwright-core';

const [url, harPath] = process.argv.slice(2);
if (!url || !harPath) throw new Error('usage: node har_browser.mjs URL HAR_PATH');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const context = await browser.newContext({ recordHar: { path: harPath, content: 'embed' } });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.title === 'done', null, { timeout: 20000 });
  console.log(await page.locator('#out').textContent());
  await context.close();
} finally {
  await browser.close();
}
