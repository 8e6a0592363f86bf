// The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): a `karafka server` with Web enabled runs real jobs against the broker,
// `karafka web` serves the dashboard; the test sees the process and lag, finds a job that was
// dead-lettered, retries it from the page and sees it run. Screenshots: tmp/screenshots/.
// Run: `npm test` here (bin/test does), with the broker on KAFKA_BOOTSTRAP (127.0.0.1:9092).
'use strict';

const { chromium } = require('playwright-core');
const { spawn, execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const assert = require('assert');

const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, 'tmp/screenshots');
const suffix = crypto.randomBytes(4).toString('hex');
const topic = `browser-jobs-${suffix}`;
const output = path.join(os.tmpdir(), `browser-${suffix}.jsonl`);
const port = 20000 + Math.floor(Math.random() * 20000);
const base = `http://127.0.0.1:${port}`;
const env = {
  ...process.env,
  KARAFKA_BOOT_FILE: path.join(ROOT, 'spec/lib/karafka/web/fixtures/karafka.rb'),
  KAFKA_BOOTSTRAP: process.env.KAFKA_BOOTSTRAP || `127.0.0.1:${process.env.KAFKA_PORT || '9092'}`,
  SPEC_TOPICS: topic,
  SPEC_GROUP: `browser-${suffix}`,
  SPEC_OUTPUT: output,
  SPEC_CONCURRENCY: '1',
  SPEC_DLQ: `browser-dead-${suffix}:1:false`,
  SPEC_SCHEDULES: `browser-sched-${suffix}`,
  SPEC_PAUSE_TIMEOUT: '3000', // long enough for a report (one a second) to show the pause
  SPEC_WEB_PREFIX: `browser_${suffix}`,
};
const karafka = (args) => ['-I', path.join(ROOT, 'lib'), path.join(ROOT, 'exe/karafka'), ...args];
const children = [];

function start(name, args) {
  const log = fs.openSync(path.join(os.tmpdir(), `browser-${suffix}-${name}.log`), 'w');
  const child = spawn('ruby', karafka(args), { cwd: ROOT, env, stdio: ['ignore', log, log] });
  children.push(child);
  return child;
}

function log(name) {
  const file = path.join(os.tmpdir(), `browser-${suffix}-${name}.log`);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

// Polls `check` until it returns something truthy (bounded; no fixed sleeps as synchronisation).
async function waitFor(what, check, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nserver log:\n${log('server').slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250)); // polling interval
  }
}

// Loads `pagePath` until `text` shows (reports arrive every second; pages render on request).
async function visit(page, pagePath, text, timeoutMs) {
  await waitFor(`${pagePath} to show ${text}`, async () => {
    try {
      await page.goto(base + pagePath);
    } catch (error) {
      // `karafka web` may still be booting (a loaded machine): not listening yet.
      if (/ERR_CONNECTION_REFUSED/.test(error.message)) return false;
      throw error;
    }
    return (await page.content()).includes(text);
  }, timeoutMs);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

function records(id) {
  if (!fs.existsSync(output)) return [];
  return fs.readFileSync(output, 'utf8').split('\n').filter(Boolean).map(JSON.parse).filter((r) => r.id === id);
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  // The routes' topics and the Web topics, as an app's deploy would create them.
  execFileSync('ruby', karafka(['topics', 'migrate']), { cwd: ROOT, env, stdio: 'inherit' });
  const server = start('server', ['server']);
  start('web', ['web', '--port', String(port)]);
  const flakyId = execFileSync('ruby', [path.join(__dirname, 'enqueue.rb'), topic], { cwd: ROOT, env }).toString().trim();

  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
                                          args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript(() => localStorage.setItem('karafka-web-live', 'off')); // no reloads mid-test

    // The server process with its assigned partition; lag while the held job runs.
    await visit(page, '/processes', `${topic}/0`);
    assert.ok((await page.content()).includes(`<td class="num">${server.pid}</td>`), 'the server pid on Processes');
    await shot(page, 'processes');
    await visit(page, '/jobs', 'HeldJob');
    await shot(page, 'jobs');
    await waitFor('lag on Topics', async () => {
      await page.goto(`${base}/topics`);
      const lag = await page.locator('#topics td.lag').first().textContent();
      return Number(lag) > 0;
    });
    await shot(page, 'topics');
    fs.writeFileSync(`${output}.release`, ''); // the held job ends; the failing job behind it runs
    // Its first failure pauses the partition (a 3 s back-off): Topics says so.
    await visit(page, '/topics', 'paused: offset 1, attempt 1', 60000);
    await shot(page, 'topics-paused');
    await page.goto(`${base}/`);
    assert.match(await page.locator('#workers').textContent(), /\d+ \/ \d+/);
    assert.ok(Number(await page.locator('#total-lag').textContent()) >= 0);

    // The failing job: its error, then its dead letter, retried from the page.
    await visit(page, '/errors', 'browser-flaky', 90000);
    await shot(page, 'errors');
    await visit(page, '/dead_letters', flakyId, 90000);
    await shot(page, 'dead_letters');
    const row = page.locator(`tr.dead-letter[data-job-id="${flakyId}"]`);
    assert.strictEqual((await row.locator('td.status').textContent()).trim(), 'pending');
    assert.strictEqual(records('browser-flaky').length, 2, 'two failed attempts before the retry');
    await row.getByRole('button', { name: 'Retry' }).click();
    await page.waitForSelector('#confirm');
    await shot(page, 'confirm');
    await page.click('#confirm');
    await page.waitForSelector('p.notice');
    assert.match(await page.locator('p.notice').textContent(), /Retried 1 dead letter/);
    await waitFor('the retried job to run', () => records('browser-flaky').some((r) => r.ok));
    assert.match(await page.locator(`tr.dead-letter[data-job-id="${flakyId}"] td.status`).textContent(), /retried/);

    // The job's run shows on the Dashboard's counters once the next report is in.
    await waitFor('every job processed on the Dashboard', async () => {
      await page.goto(`${base}/`);
      // Processed 2 (the held job, the retried one), failed 2, retried 1, dead-lettered 1.
      return /<td class="num">2<\/td>\s*<td class="num">2<\/td>\s*<td class="num">1<\/td>\s*<td class="num">1<\/td>/
        .test(await page.content());
    });
    await shot(page, 'dashboard');
    for (const name of ['scheduled', 'routing']) {
      await page.goto(`${base}/${name}`);
      await shot(page, name);
    }
    console.log(`browser test passed; screenshots in ${SHOTS}`);
  } finally {
    await browser.close();
  }
}

main().then(() => 0, (error) => { console.error(error); return 1; }).then((status) => {
  children.forEach((child) => child.kill('SIGTERM'));
  process.exitCode = status;
});
