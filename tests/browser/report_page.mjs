// Opens a report page in headless Chromium (Debian's package): axe-core audit (no serious or
// critical violation), nothing loaded from elsewhere, no script, no sideways scrolling at 320 px,
// then a screenshot (desktop and 320 px) and a PDF printed on A4 by Chromium itself.
// Usage: node report_page.mjs <report link> <output folder>
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
const DESKTOP = { width: 1024, height: 900 };
const NARROWEST = 320;
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
  return { name, passes: result.passes.length, violations: result.violations.map((v) => `${v.id}:${v.impact}`) };
}

async function main() {
  const [link, folder] = process.argv.slice(2);
  if (!link || !folder) throw new Error('usage: node report_page.mjs <report link> <folder>');
  fs.mkdirSync(folder, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  try {
    const context = await browser.newContext({ viewport: DESKTOP, locale: 'fr-FR' });
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
    check(await page.$$eval('script', (scripts) => scripts.length) === 0, 'the page has a script');
    check(await page.$$eval('svg.chart', (charts) => charts.length) >= 3, 'fewer than three charts');
    const report = [await audit(page, 'desktop')];
    await page.screenshot({ path: path.join(folder, 'report-page.png'), fullPage: true });
    await page.setViewportSize({ width: NARROWEST, height: 740 });
    const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth);
    check(overflow <= NARROWEST, `${overflow} px wide at ${NARROWEST} px (sideways scrolling)`);
    const smallest = await page.evaluate(() => Math.min(...[...document.querySelectorAll('p, td, th, li')]
      .map((element) => parseFloat(getComputedStyle(element).fontSize))));
    check(smallest >= 12, `text as small as ${smallest} px at ${NARROWEST} px`);
    report.push(await audit(page, '320 px'));
    await page.screenshot({ path: path.join(folder, 'report-page-320.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    await page.pdf({ path: path.join(folder, 'report-page.pdf'), preferCSSPageSize: true, printBackground: true });
    const pdf = fs.readFileSync(path.join(folder, 'report-page.pdf'));
    check(pdf.subarray(0, 5).toString() === '%PDF-', 'the PDF does not start with %PDF-');
    // A4 is 595 x 842 points: the @page size the stylesheet asks for.
    const boxes = [...pdf.toString('latin1').matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)];
    check(boxes.length > 0 && boxes.every(([, w, h]) => Math.abs(w - 595.3) < 2 && Math.abs(h - 841.9) < 2),
      `the PDF pages are not A4: ${boxes.map(([box]) => box).join(', ')}`);
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
