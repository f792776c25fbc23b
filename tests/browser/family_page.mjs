// Drives the family's page in headless Chromium (Debian's package) as a family would:
// open the French link, confirm, cancel (after the "are you sure?" step), then the Arabic link.
// Every page is checked by axe-core (no serious or critical violation), for 44 px touch targets,
// for fitting 320 px without sideways scrolling, and for loading nothing from elsewhere.
// Usage: node family_page.mjs <french link> <arabic link> <screenshot folder>
// Exit code 0 when every check passed; the failures are printed otherwise.
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
  // Evaluated through the DevTools protocol: the page's own CSP (no scripts at all) stays on.
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), AXE_TAGS);
  for (const violation of result.violations) {
    if (violation.impact === 'serious' || violation.impact === 'critical') {
      const where = violation.nodes.map((node) => node.target.join(' ')).join(', ');
      failures.push(`${name}: axe ${violation.id} (${violation.impact}) at ${where}`);
    }
  }
  const small = await page.$$eval('a, button', (elements, min) => elements
    .map((element) => ({ text: element.textContent.trim(), box: element.getBoundingClientRect() }))
    .filter(({ box }) => box.height < min || box.width < min)
    .map(({ text, box }) => `${text} (${Math.round(box.width)}x${Math.round(box.height)})`), TOUCH_TARGET_PX);
  check(small.length === 0, `${name}: touch targets under ${TOUCH_TARGET_PX} px: ${small.join('; ')}`);
  await page.setViewportSize({ width: NARROWEST, height: PHONE.height });
  const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth);
  check(overflow <= NARROWEST, `${name}: ${overflow} px wide at ${NARROWEST} px (sideways scrolling)`);
  await page.setViewportSize(PHONE);
  return { name, passes: result.passes.length, violations: result.violations.map((v) => `${v.id}:${v.impact}`) };
}

async function state(page) {
  return page.getAttribute('main', 'data-state');
}

async function french(page, link, folder) {
  const response = await page.goto(link);
  check(response.status() === 200, `fr: GET answered ${response.status()}`);
  check(await page.getAttribute('html', 'lang') === 'fr', 'fr: html lang is not fr');
  check(await page.getAttribute('html', 'dir') === 'ltr', 'fr: html dir is not ltr');
  const report = [await audit(page, 'fr page')];
  await page.screenshot({ path: path.join(folder, 'family-page-fr.png') });
  await Promise.all([page.waitForNavigation(), page.click('form[action$="/confirm"] button')]);
  check(await state(page) === 'confirmed', `fr: after confirm the page says ${await state(page)}`);
  report.push(await audit(page, 'fr confirmed'));
  await Promise.all([page.waitForNavigation(), page.click('a[href$="/cancel"]')]);
  check(await state(page) === 'confirmed', 'fr: the cancel step cancelled already');
  report.push(await audit(page, 'fr cancel step'));
  await page.screenshot({ path: path.join(folder, 'family-page-fr-cancel.png') });
  await Promise.all([page.waitForNavigation(), page.click('form[action$="/cancel"] button')]);
  check(await state(page) === 'cancelled', `fr: after cancel the page says ${await state(page)}`);
  check(new URL(page.url()).pathname === new URL(link).pathname, 'fr: not redirected back to the page');
  report.push(await audit(page, 'fr cancelled'));
  return report;
}

async function arabic(page, link, folder) {
  const response = await page.goto(link);
  check(response.status() === 200, `ar: GET answered ${response.status()}`);
  check(await page.getAttribute('html', 'dir') === 'rtl', 'ar: html dir is not rtl');
  check(await page.evaluate(() => getComputedStyle(document.body).direction) === 'rtl', 'ar: not laid out rtl');
  const report = [await audit(page, 'ar page')];
  await page.screenshot({ path: path.join(folder, 'family-page-ar.png') });
  return report;
}

async function main() {
  const [frLink, arLink, folder] = process.argv.slice(2);
  if (!frLink || !arLink || !folder) throw new Error('usage: node family_page.mjs <fr link> <ar link> <folder>');
  fs.mkdirSync(folder, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  try {
    const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, locale: 'fr-FR' });
    const page = await context.newPage();
    const origin = new URL(frLink).origin;
    page.on('request', (request) => {
      const url = request.url();
      check(url.startsWith(origin) || url.startsWith('data:'), `the page loaded ${url}`);
    });
    page.on('console', (message) => check(message.type() !== 'error', `console error: ${message.text()}`));
    const report = [...await french(page, frLink, folder), ...await arabic(page, arLink, folder)];
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
