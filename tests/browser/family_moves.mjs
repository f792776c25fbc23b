// "Choose another time" on the family's page of a booked appointment, in headless Chromium, in
// French then in Arabic: each page audited by axe-core (no serious or critical violation), 44 px
// touch targets, 320 px without sideways scrolling, nothing loaded from elsewhere, no script.
// Clicking the first time offered moves the appointment: the page then shows that time.
// Usage: node family_moves.mjs <french link> <arabic link> <screenshot folder>
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
  check(await page.$$eval('script', (found) => found.length) === 0, `${name}: the page has a script`);
  return { name, passes: result.passes.length, violations: result.violations.map((v) => `${v.id}:${v.impact}`) };
}

async function move(page, link, language, direction, folder) {
  const response = await page.goto(link);
  check(response.status() === 200, `${language}: GET answered ${response.status()}`);
  check(await page.getAttribute('html', 'lang') === language, `${language}: html lang is wrong`);
  check(await page.getAttribute('html', 'dir') === direction, `${language}: html dir is not ${direction}`);
  const choices = await page.$$eval('form[action$="/rebook"] input[name="start"]', (inputs) => inputs.map((input) => input.value));
  check(choices.length > 0, `${language}: no other time offered`);
  const report = [await audit(page, `${language} booked`)];
  await page.screenshot({ path: path.join(folder, `family-moves-${language}.png`), fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('form[action$="/rebook"] button')]);
  check(new URL(page.url()).pathname === new URL(link).pathname, `${language}: not back on the same page`);
  const shown = await page.getAttribute('dd.when time', 'datetime');
  check(shown === choices[0], `${language}: the page shows ${shown}, ${choices[0]} was chosen`);
  report.push(await audit(page, `${language} moved`));
  return { report, chosen: choices[0] };
}

async function main() {
  const [frLink, arLink, folder] = process.argv.slice(2);
  if (!frLink || !arLink || !folder) throw new Error('usage: node family_moves.mjs <fr link> <ar link> <folder>');
  fs.mkdirSync(folder, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  const moved = {};
  const report = [];
  try {
    const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, locale: 'fr-FR' });
    const page = await context.newPage();
    const origin = new URL(frLink).origin;
    page.on('request', (request) => {
      const url = request.url();
      check(url.startsWith(origin) || url.startsWith('data:'), `the page loaded ${url}`);
    });
    page.on('console', (message) => check(message.type() !== 'error', `console error: ${message.text()}`));
    for (const [language, direction, link] of [['fr', 'ltr', frLink], ['ar', 'rtl', arLink]]) {
      const done = await move(page, link, language, direction, folder);
      report.push(...done.report);
      moved[language] = done.chosen;
    }
    console.log(JSON.stringify({ chromium: browser.version(), moved, report }, null, 1));
  } finally {
    await browser.close();
  }
  if (failures.length) {
    console.error(failures.join('\n'));
    process.exit(1);
  }
}

main().catch((error) => { console.error(error); process.exit(2); });
