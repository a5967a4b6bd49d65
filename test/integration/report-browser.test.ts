// Issue 19: the HTML timeline report, produced by real runs in the lab, opened in a real browser
// (Debian's chromium, headless, driven by playwright-core; nothing is downloaded). The charts
// are read back from the DOM: vega writes every mark's values into its aria-label.
//
// accept-overflow, backlog 2, the app never accepts, 6 clients one after another (spec §8a):
// - 3.10 (§1.1 C3, young rule): 5 SYNs answered, the 6th dropped while two young requests are
//   pending (ACCEPTQ_FULL_YOUNG ×1); the two ghosts' third ACKs overflow (TCP_LISTEN_OVERFLOW ×2),
//   and again after their SYN-ACK retransmit at ~1 s (×2 more): ListenOverflows 3 + 2.
// - 6.x (§1.2 D2): every SYN after the third is dropped at the full accept queue (ACCEPTQ_FULL ×3),
//   no third ACK ever overflows.
// On both the accept queue reaches its limit, backlog 2 + 1 = 3 (§1.5: full when > backlog).

import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, TEST_ENV, curlFrom, integrationPrerequisites, run, startSyndrop, testLabDown, testLabUp } from '../helpers/lab-fixture.js';
import { recordConversation } from '../helpers/recorded-conversation.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');

async function prerequisites(): Promise<string | undefined> {
  const lab = await integrationPrerequisites(['ip', 'iptables', 'nft', 'curl']);
  if (lab !== undefined || existsSync(CHROMIUM)) return lab;
  if (process.env.CI) throw new Error(`browser test prerequisites missing in CI: ${CHROMIUM} (apt-get install chromium)`);
  console.warn(`skipping the browser test: no ${CHROMIUM} (apt-get install chromium)`);
  return 'no chromium';
}

const skip = await prerequisites();

/** The offline reports (replay, simulate) need no lab: only the browser. */
function offlinePrerequisites(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.env.CI) throw new Error(`browser test prerequisites missing in CI: ${CHROMIUM} (apt-get install chromium)`);
  return 'no chromium';
}

/** A fresh profile, no network chatter, root without a sandbox (as CI runs). */
async function openBrowser(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1700, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

interface OpenedReport {
  page: Page;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Requests for anything but the file itself: a self-contained page makes none. */
  requests: string[];
}

async function openReport(context: BrowserContext, file: string): Promise<OpenedReport> {
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('request', (request) => {
    if (request.url() !== `file://${file}`) requests.push(request.url());
  });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { page, errors, requests };
}

/** The aria-labels of the marks of one chart of one kernel's section. */
function markLabels(page: Page, kernel: string, chart: string): Promise<string[]> {
  return page
    .locator(`article.section[data-kernel="${kernel}"] figure[data-chart="${chart}"] .role-mark [aria-label]`)
    .evaluateAll((marks) => marks.map((m) => m.getAttribute('aria-label') ?? ''));
}

/** Sum of the drop bars of one reason (each bar's label: "...; drops: N; ...; reason: R"). */
async function dropsOf(page: Page, kernel: string, reason: string): Promise<number> {
  const labels = await markLabels(page, kernel, 'drops');
  return labels.filter((l) => l.endsWith(`reason: ${reason}`)).reduce((sum, l) => sum + Number(/drops: (\d+)/.exec(l)![1]), 0);
}

describe.skipIf(skip !== undefined)('HTML report in a real browser (issue 19)', () => {
  let context: BrowserContext;
  let work: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'syndrop-report-'));
    context = await openBrowser(join(work, 'chromium-profile'));
  });

  afterAll(async () => {
    await context?.close();
    await testLabDown();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('scenario matrix accept-overflow 3.10 vs 6.x: the accept queue reaches its limit on both, SYNs are dropped at it only on 6.x, third ACKs only on 3.10', async () => {
    const file = join(work, 'accept-overflow.html');
    const r = await run([process.execPath, CLI, 'scenario', 'matrix', '--kernels', '3.10,6.x', '--scenarios', 'accept-overflow', '--report', file, '--quiet'], {
      env: TEST_ENV,
      allowFailure: true,
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/syndrop: report .*accept-overflow\.html \(\d+ KiB\)/);

    const { page, errors, requests } = await openReport(context, file);
    await page.screenshot({ path: join(ARTIFACTS, 'report-accept-overflow.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);

    const kernels = await page.locator('article.section').evaluateAll((s) => s.map((e) => e.getAttribute('data-kernel')));
    expect(kernels).toEqual(['3.10', '6.x']);
    for (const kernel of ['3.10', '6.x']) {
      const charts = await page.locator(`article.section[data-kernel="${kernel}"] figure.chart`).evaluateAll((f) => f.map((e) => e.getAttribute('data-chart')));
      expect(charts).toEqual(['traffic', 'drops', 'accept-queue', 'syn-queue', 'established', 'lanes']);
      // Rendered, not empty: every chart is an SVG with a non-zero box in the page.
      const boxes = await page.locator(`article.section[data-kernel="${kernel}"] figure.chart svg`).evaluateAll((s) => s.map((e) => e.getBoundingClientRect().height));
      expect(boxes.every((h) => h > 40)).toBe(true);

      const acceptQueue = await markLabels(page, kernel, 'accept-queue');
      expect(acceptQueue.some((l) => l.endsWith('length: 3; state: full')), `${kernel} accept queue at its limit`).toBe(true);
      expect(acceptQueue.some((l) => /length: [4-9]/.test(l))).toBe(false);
      expect(acceptQueue.filter((l) => l.includes('limit: 3'))).toHaveLength(1);

      // Six clients, one lane each (address:port of c3's connections).
      const lanes = await page.locator(`article.section[data-kernel="${kernel}"] figure[data-chart="lanes"] .role-axis[aria-label]`).evaluateAll((a) => a.map((e) => e.getAttribute('aria-label') ?? ''));
      expect(lanes.some((l) => /discrete scale with 6 values/.test(l))).toBe(true);
    }

    expect(await dropsOf(page, '6.x', 'ACCEPTQ_FULL')).toBe(3);
    expect(await dropsOf(page, '3.10', 'ACCEPTQ_FULL')).toBe(0);
    expect(await dropsOf(page, '3.10', 'ACCEPTQ_FULL_YOUNG')).toBe(1);
    expect(await dropsOf(page, '3.10', 'TCP_LISTEN_OVERFLOW')).toBe(4);
    expect(await dropsOf(page, '6.x', 'TCP_LISTEN_OVERFLOW')).toBe(0);
    const retransmitted = await page.locator('article.section[data-kernel="3.10"] .totals').innerText();
    expect(retransmitted).toMatch(/SYN-ACKs 5 \(\+2 retransmitted\)/);
    expect(await page.locator('article.section[data-kernel="6.x"] .totals').innerText()).toMatch(/SYN-ACKs 3 \(\+0 retransmitted\)/);
    expect(await page.locator('article.section .verdict summary').allInnerTexts()).toEqual(['Verdict: 4/4 steps as the spec predicts', 'Verdict: 4/4 steps as the spec predicts']);
  });

  it('syndrop run --report: written at stop from the event ring and the sampled queues, with the client that connected', async () => {
    await testLabUp();
    const file = join(work, 'run.html');
    const server = await startSyndrop(['--kernel', '5.4', '--quiet', '--report', file]);
    const reply = await curlFrom('c3');
    expect(reply.httpCode).toBe('200');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await server.stop('SIGINT')).toBe(0);
    expect(statSync(file).size).toBeGreaterThan(10_000);

    const { page, errors } = await openReport(context, file);
    await page.screenshot({ path: join(ARTIFACTS, 'report-run.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(await page.locator('article.section').getAttribute('data-kernel')).toBe('5.4');
    expect(await page.locator('.totals').innerText()).toMatch(/SYNs in 1 · SYN-ACKs 1 \(\+0 retransmitted\).*drops none/);
    const lane = await markLabels(page, '5.4', 'lanes');
    expect(lane.filter((l) => l.includes(`mark: established`))).toHaveLength(1);
    expect(lane[0]).toMatch(/client: 10\.77\.\d+\.\d+:\d+; mark: SYN in/);
    expect(await page.locator('.command').innerText()).toContain(`--report ${file}`);
  });
});

describe.skipIf(offlinePrerequisites() !== undefined)('HTML report of replay and simulate in a real browser (issue 19 × issue 17)', () => {
  let context: BrowserContext;
  let work: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'syndrop-offline-report-'));
    context = await openBrowser(join(work, 'chromium-profile'));
  });

  afterAll(async () => {
    await context?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function offlineReport(name: string, args: string[]): Promise<OpenedReport> {
    const file = join(work, `${name}.html`);
    const r = await run([process.execPath, CLI, ...args, '--report', file], { allowFailure: true, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`syndrop: report .*${name}\\.html \\(\\d+ KiB\\)`));
    const opened = await openReport(context, file);
    await opened.page.screenshot({ path: join(ARTIFACTS, `report-${name}.png`), fullPage: true });
    expect(opened.errors).toEqual([]);
    expect(opened.requests).toEqual([]);
    return opened;
  }

  async function chartsOf(page: Page, kernel: string): Promise<Array<string | null>> {
    return page.locator(`article.section[data-kernel="${kernel}"] figure.chart`).evaluateAll((f) => f.map((e) => e.getAttribute('data-chart')));
  }

  async function laneCount(page: Page, kernel: string): Promise<number> {
    const axes = await page.locator(`article.section[data-kernel="${kernel}"] figure[data-chart="lanes"] .role-axis[aria-label]`).evaluateAll((a) => a.map((e) => e.getAttribute('aria-label') ?? ''));
    return Number(/discrete scale with (\d+) values/.exec(axes.join(' '))?.[1] ?? 0);
  }

  it('replay --kernels 3.10,6.x of an accept-overflow capture (backlog 2, never accepts): 6.x drops the 3 late clients\' SYNs at the full accept queue, 3.10 drops by its young rule', async () => {
    // A 6.x server recorded: 6 clients 10 ms apart, the 3 it dropped retransmit after 1 s.
    const capture = join(work, 'overflow.pcap');
    recordConversation(capture, { kernel: '6.x', backlog: 2, acceptRate: 0, clients: 6, spacingMs: 10, untilMs: 2500 });
    const { page } = await offlineReport('replay', ['replay', capture, '--kernels', '3.10,6.x', '--backlog', '2', '--accept-rate', '0']);

    expect(await page.locator('article.section').evaluateAll((s) => s.map((e) => e.getAttribute('data-kernel')))).toEqual(['3.10', '6.x']);
    for (const kernel of ['3.10', '6.x']) {
      expect(await chartsOf(page, kernel)).toEqual(['traffic', 'drops', 'accept-queue', 'syn-queue', 'established', 'lanes']);
      // The accept queue holds backlog + 1 = 3 (spec §1.5) and reaches it on both kernels.
      const acceptQueue = await markLabels(page, kernel, 'accept-queue');
      expect(acceptQueue.some((l) => l.endsWith('length: 3; state: full')), `${kernel} accept queue at its limit`).toBe(true);
      expect(acceptQueue.some((l) => /length: [4-9]/.test(l))).toBe(false);
      expect(await laneCount(page, kernel)).toBe(6);
    }
    // 6.x (§1.2 D2): clients 4–6, a SYN and a retransmit each, all at the full accept queue.
    expect(await dropsOf(page, '6.x', 'ACCEPTQ_FULL')).toBe(6);
    expect(await page.locator('article.section[data-kernel="6.x"]').innerText()).toContain('6 connections: 3 established, 3 dropped (the real server: 3 established, 3 dropped); 0 diverged');
    // 3.10 (§1.1 C3): the full-queue rule does not exist; the young rule drops client 6.
    expect(await dropsOf(page, '3.10', 'ACCEPTQ_FULL')).toBe(0);
    expect(await dropsOf(page, '3.10', 'ACCEPTQ_FULL_YOUNG')).toBeGreaterThanOrEqual(1);
    expect(await page.locator('article.section[data-kernel="3.10"] .totals').innerText()).toMatch(/SYN-ACKs 5 \(/);
    expect(await page.locator('h2').innerText()).toBe('overflow.pcap → server 10.0.0.1:80');
  });

  it('simulate --kernels 3.10,6.x (backlog 4, never accepts, 10 clients, no retransmits): 6.x drops 5 SYNs at the full accept queue, 3.10 makes 2 ghosts and drops 3 by its young rule', async () => {
    const { page } = await offlineReport('simulate', [
      'simulate', '--kernels', '3.10,6.x', '--backlog', '4', '--accept-rate', '0', '--syn-rate', '100', '--clients', '10',
      '--arrivals', 'uniform', '--rtt', '1', '--client-kernel', '5.15', '--syn-retries', '0', '--duration', '1',
    ]);
    expect(await page.locator('article.section').evaluateAll((s) => s.map((e) => e.getAttribute('data-kernel')))).toEqual(['3.10', '6.x']);
    for (const kernel of ['3.10', '6.x']) {
      expect(await chartsOf(page, kernel)).toEqual(['traffic', 'drops', 'accept-queue', 'syn-queue', 'established', 'lanes']);
      // backlog 4: the accept queue holds 5 (spec §1.5), reached on both kernels.
      expect((await markLabels(page, kernel, 'accept-queue')).some((l) => l.endsWith('length: 5; state: full'))).toBe(true);
      expect(await laneCount(page, kernel)).toBe(10);
    }
    expect(await dropsOf(page, '6.x', 'ACCEPTQ_FULL')).toBe(5);
    expect(await page.locator('article.section[data-kernel="6.x"]').innerText()).toContain('10 clients: 5 connected (0 ghosts), 0 reset, 5 timed out — 50% failed');
    expect(await dropsOf(page, '3.10', 'ACCEPTQ_FULL_YOUNG')).toBe(3);
    expect(await dropsOf(page, '3.10', 'TCP_LISTEN_OVERFLOW')).toBeGreaterThanOrEqual(2);
    expect(await page.locator('article.section[data-kernel="3.10"]').innerText()).toContain('10 clients: 7 connected (2 ghosts), 0 reset, 3 timed out');
  });
});
