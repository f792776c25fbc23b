// Opens each API documentation page in headless Chromium (Debian's package) and checks that it
// renders (Swagger UI's title shows the API's name) and that nothing was requested from
// anywhere but the service itself: no CDN, no web fonts, no favicon from elsewhere.
// Usage: node api_docs.mjs <expected title> <page url>...
// Exit code 0 when every check passed; the failures are printed otherwise.
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const RENDER_MS = 30000;

const failures = [];
const check = (ok, message) => { if (!ok) failures.push(message); };

async function visit(context, url, title) {
  const page = await context.newPage();
  const origin = new URL(url).origin;
  const requested = [];
  page.on('request', (request) => requested.push(request.url()));
  page.on('requestfailed', (request) => check(false, `${url}: request failed: ${request.url()}`));
  page.on('console', (message) => check(message.type() !== 'error', `${url}: console error: ${message.text()}`));
  const response = await page.goto(url, { waitUntil: 'load' });
  check(response && response.status() === 200, `${url}: status ${response && response.status()}`);
  const heading = await page.waitForSelector('.swagger-ui .info .title', { timeout: RENDER_MS }).catch(() => null);
  const text = heading ? (await heading.textContent()).trim() : '';
  check(text.startsWith(title), `${url}: Swagger UI title is "${text}", expected "${title}..."`);
  const operations = await page.$$eval('.opblock', (blocks) => blocks.length);
  check(operations > 10, `${url}: only ${operations} operations rendered`);
  await page.waitForLoadState('networkidle');
  const elsewhere = requested.filter((address) => !address.startsWith(origin) && !address.startsWith('data:'));
  check(elsewhere.length === 0, `${url}: requests left the server: ${elsewhere.join(', ')}`);
  await page.close();
  return { url, title: text, operations, requests: requested.length };
}

async function main() {
  const [title, ...urls] = process.argv.slice(2);
  if (!title || urls.length === 0) throw new Error('usage: node api_docs.mjs <title> <url>...');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  try {
    const context = await browser.newContext();
    const report = [];
    for (const url of urls) report.push(await visit(context, url, title));
    console.log(JSON.stringify({ chromium: browser.version(), report }, null, 1));
  } finally {
    await browser.close();
  }
  if (failures.length) {
    console.error(failures.join('\n'));
    process.exit(1);
  }
}

main().catch((error) => { console.error(error); process.exit(2); });
