// Drives the family page of a care pathway in headless Chromium: the first session's link shows
// every session and who is expected; the family confirms the second session from there, lands on
// that session's page (confirmed), then opens the third. Each page is audited by axe-core (no
// serious or critical violation), with 44 px touch targets and no sideways scrolling at 320 px.
// Usage: node family_pathway.mjs <link of the first session> <number of sessions> <screenshot folder>
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

async function pathway(page, link, count, folder) {
  const response = await page.goto(link);
  check(response.status() === 200, `GET answered ${response.status()}`);
  const sessions = page.locator('section[aria-labelledby="pathway-heading"] > .card');
  check(await sessions.count() === count, `the page lists ${await sessions.count()} sessions, not ${count}`);
  const text = await page.locator('section[aria-labelledby="pathway-heading"]').innerText();
  for (const words of ['Tous vos rendez-vous', 'Qui vient : les parents', "Qui vient : l'enfant",
    "Qui vient : les parents et l'enfant", `Rendez-vous 2 sur ${count}`]) {
    check(text.includes(words), `the pathway does not say "${words}"`);
  }
  const report = [await audit(page, 'pathway, first session')];
  await page.screenshot({ path: path.join(folder, 'family-pathway.png'), fullPage: true });
  // The second session's own confirm form, inside the pathway's list.
  await Promise.all([page.waitForNavigation(), sessions.nth(1).locator('form[action$="/confirm"] button').click()]);
  check(await page.getAttribute('main', 'data-state') === 'confirmed',
    `after confirming the second session its page says ${await page.getAttribute('main', 'data-state')}`);
  check(new URL(page.url()).pathname !== new URL(link).pathname, 'not taken to the second session\'s page');
  report.push(await audit(page, 'pathway, second session confirmed'));
  const third = page.locator('section[aria-labelledby="pathway-heading"] > .card').nth(2);
  await Promise.all([page.waitForNavigation(), third.locator('a.button.secondary').click()]);
  check(await page.getAttribute('main', 'data-state') === 'booked', 'the third session\'s page is not booked');
  report.push(await audit(page, 'pathway, third session'));
  return report;
}

async function main() {
  const [link, count, folder] = process.argv.slice(2);
  if (!link || !count || !folder) throw new Error('usage: node family_pathway.mjs <link> <sessions> <folder>');
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
    const report = await pathway(page, link, Number(count), folder);
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
