// Drives the staff's outcome page in headless Chromium (Debian's package): open the link read from
// the calendar feed, audit it with axe-core (no serious or critical violation), 44 px touch targets,
// 320 px without sideways scrolling, nothing loaded from elsewhere, no script needed; then record a
// no-show and audit the page it comes back to.
// Usage: node staff_page.mjs <link> <screenshot folder>. Exit code 0 when every check passed.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PHONE = { width: 360, height: 740 };
const NARROWEST = 320;
const TOUCH_TARGET_PX = 44;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

const failures = [];
const check = (ok, message) => { if (!ok) failures.push(message); };

async function audit(page, name) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), AXE_TAGS);
  for (const violation of result.violations) {
    if (violation.impact === 'serious' || violation.impact === 'critical') {
      failures.push(`${name}: axe ${violation.id} (${violation.impact}) at ${violation.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }
  }
  const small = await page.$$eval('a, button, input:not([type=hidden])', (elements, min) => elements
    .map((element) => ({ text: element.textContent.trim() || element.name, box: element.getBoundingClientRect() }))
    .filter(({ box }) => box.height < min || box.width < min)
    .map(({ text, box }) => `${text} (${Math.round(box.width)}x${Math.round(box.height)})`), TOUCH_TARGET_PX);
  check(small.length === 0, `${name}: touch targets under ${TOUCH_TARGET_PX} px: ${small.join('; ')}`);
  await page.setViewportSize({ width: NARROWEST, height: PHONE.height });
  const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth);
  check(overflow <= NARROWEST, `${name}: ${overflow} px wide at ${NARROWEST} px (sideways scrolling)`);
  await page.setViewportSize(PHONE);
  return { name, passes: result.passes.length, violations: result.violations.map((v) => `${v.id}:${v.impact}`) };
}

async function main() {
  const [link, folder] = process.argv.slice(2);
  if (!link || !folder) throw new Error('usage: node staff_page.mjs <link> <folder>');
  fs.mkdirSync(folder, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  try {
    const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, locale: 'fr-FR' });
    const page = await context.newPage();
    const origin = new URL(link).origin;
    page.on('request', (request) => {
      const url = request.url();
      check(url.startsWith(origin) || url.startsWith('data:'), `the page loaded ${url}`);
    });
    page.on('console', (message) => check(message.type() !== 'error', `console error: ${message.text()}`));
    const response = await page.goto(link);
    check(response.status() === 200, `GET answered ${response.status()}`);
    check(await page.getAttribute('html', 'lang') === 'fr', 'html lang is not fr');
    // axe is evaluated through the DevTools protocol: the page's CSP (no script at all) stays on.
    const report = [await audit(page, 'staff page')];
    await page.screenshot({ path: path.join(folder, 'staff-page.png'), fullPage: true });
    await Promise.all([page.waitForNavigation(), page.click('form:has(input[value="no_show"]) button')]);
    check(await page.getAttribute('main', 'data-state') === 'no_show', 'after the no-show the page does not say so');
    check(new URL(page.url()).pathname === new URL(link).pathname, 'not redirected back to the page');
    report.push(await audit(page, 'staff page after a no-show'));
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
