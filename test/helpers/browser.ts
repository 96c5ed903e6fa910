// Debian's Chromium driven by playwright-core, and a watch over everything a page reports: console
// errors and warnings, uncaught exceptions, Content-Security-Policy violations and failed loads.
// Never downloads a browser.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, type TestContext } from 'node:test';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import type { RawSettings } from '../../src/config.ts';
import { startListeningTestApp, type TestApp } from './app.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;
export const SCREENSHOTS_DIR = new URL('../../test-results/', import.meta.url);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

export interface PageWatch {
  /** Everything that went wrong in any page of the context so far, one line each. */
  problems(): string[];
  /** Every console message so far, as `type: text`, for failure messages. */
  console(): string[];
  /** Resolves with the first recorded CSP violation or page error that matches. */
  problemMatching(pattern: RegExp): Promise<string>;
}

const FAILED_LOAD = /^Failed to load resource: the server responded with a status of (\d{3})/;

/**
 * Watches every page of a context. Problems: uncaught page errors, CSP violations, failed requests,
 * console errors and warnings, and Chromium's [DOM] advice about forms. A page the server deliberately answers with a 4xx (a form shown
 * again with its error) makes Chromium log "Failed to load resource"; that one line is not a problem
 * when it is about the document itself, since the test asserts what that page shows. Failing
 * stylesheets, scripts or icons are problems, and so is any 5xx.
 */
export async function watchContext(context: BrowserContext): Promise<PageWatch> {
  const problems: string[] = [];
  const waiters: { pattern: RegExp; resolve: (problem: string) => void }[] = [];
  const record = (problem: string): void => {
    problems.push(problem);
    for (const waiter of waiters.filter((w) => w.pattern.test(problem))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(problem);
    }
  };
  const messages: { type: string; text: string; url: string }[] = [];
  const documents = new Set<string>();
  const aborted: { url: string; line: string }[] = [];
  const downloads = new Set<string>();

  // Reported from inside the page: the binding and the init script are installed by the DevTools
  // protocol, so the page's own CSP does not block them.
  await context.exposeBinding('__reportCspViolation', (_source, report: string) => {
    record(`CSP violation: ${report}`);
  });
  await context.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) => {
      window.__reportCspViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' in ' + e.documentURI);
    });`,
  });

  const watchPage = (page: Page): void => {
    page.on('console', (message) => {
      const entry = { type: message.type(), text: message.text(), url: message.location().url };
      messages.push(entry);
    });
    page.on('pageerror', (error) => record(`page error: ${error.message}`));
    page.on('requestfailed', (request) => {
      const line = `request failed: ${request.url()} (${request.failure()?.errorText ?? 'unknown'})`;
      // A navigation that the server answers with an attachment becomes a download, and Chromium
      // reports the navigation itself as aborted: judged in problems(), once the download is known.
      const abortedRequest = request.failure()?.errorText === 'net::ERR_ABORTED';
      if (abortedRequest && request.isNavigationRequest()) aborted.push({ url: request.url(), line });
      // A script's fetch still in flight when the page navigates away (the strength meter's check as
      // the form is sent) is cancelled by the browser: nothing failed.
      else if (!(abortedRequest && request.resourceType() === 'fetch')) record(line);
    });
    page.on('download', (download) => downloads.add(download.url()));
    page.on('response', (response) => {
      const status = response.status();
      const isDocument = response.request().resourceType() === 'document';
      if (isDocument && status < 500) documents.add(`${status} ${response.url()}`);
      else if (status >= 400) record(`HTTP ${status} for ${response.request().resourceType()} ${response.url()}`);
    });
  };
  for (const page of context.pages()) watchPage(page);
  context.on('page', watchPage);

  return {
    problems(): string[] {
      const fromConsole = messages
        // Chromium's "[DOM]" advice (password forms, autocomplete) arrives as verbose messages.
        .filter((m) => m.type === 'error' || m.type === 'warning' || m.text.startsWith('[DOM]'))
        .filter((m) => {
          const status = FAILED_LOAD.exec(m.text)?.[1];
          return !(status && documents.has(`${status} ${m.url}`));
        })
        .map((m) => `console ${m.type}: ${m.text} (${m.url})`);
      const abortedNavigations = aborted.filter((a) => !downloads.has(a.url)).map((a) => a.line);
      return [...problems, ...abortedNavigations, ...fromConsole];
    },
    console: () => messages.map((m) => `${m.type}: ${m.text}`),
    problemMatching(pattern: RegExp): Promise<string> {
      const seen = problems.find((p) => pattern.test(p));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}

export interface Screenshots {
  desktop: string;
  phone: string;
  /** How far the page is wider than a phone screen, in CSS pixels: 0 when nothing sticks out sideways. */
  phoneOverflow: number;
}

/** Full-page screenshots at desktop and phone width into test-results/; the viewport is restored. */
export async function screenshotBothWidths(page: Page, name: string): Promise<Screenshots> {
  await mkdir(SCREENSHOTS_DIR, { recursive: true });
  const before = page.viewportSize() ?? DESKTOP;
  const desktop = new URL(`${name}-desktop.png`, SCREENSHOTS_DIR).pathname;
  const phone = new URL(`${name}-phone.png`, SCREENSHOTS_DIR).pathname;
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: desktop, fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: phone, fullPage: true });
  const phoneOverflow = await page.evaluate<number>(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  );
  await page.setViewportSize(before);
  return { desktop, phone, phoneOverflow };
}

/**
 * What a screen-reader or keyboard user would trip over on this page: no language, not exactly one
 * <h1>, a visible field without its own <label for>, a duplicate id, a nameless button, an error box that
 * is not announced, a hint that aria-describedby points to but does not exist.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  const problems: string[] = [];
  const where = new URL(page.url()).pathname;
  if (!(await page.locator('html').getAttribute('lang'))) problems.push(`${where}: <html> has no lang`);
  if (!(await page.title()).trim()) problems.push(`${where}: empty <title>`);
  const h1 = await page.locator('h1').count();
  if (h1 !== 1) problems.push(`${where}: ${h1} <h1> elements instead of one`);
  if ((await page.locator('main').count()) !== 1) problems.push(`${where}: no single <main>`);

  for (const field of await page.locator('input:not([type="hidden"]), select, textarea').all()) {
    if (!(await field.isVisible())) continue;
    const id = await field.getAttribute('id');
    const name = (await field.getAttribute('name')) ?? '?';
    if (!id) {
      problems.push(`${where}: field "${name}" has no id, so no <label for> can name it`);
      continue;
    }
    if ((await page.locator(`[id="${id}"]`).count()) !== 1) problems.push(`${where}: id "${id}" is not unique`);
    const labels = page.locator(`label[for="${id}"]`);
    if ((await labels.count()) !== 1) problems.push(`${where}: field "${id}" has no single <label for>`);
    else if (!(await labels.innerText()).trim()) problems.push(`${where}: the label of "${id}" is empty`);
    for (const hint of ((await field.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean)) {
      if ((await page.locator(`[id="${hint}"]`).count()) !== 1)
        problems.push(`${where}: "${id}" is described by a missing #${hint}`);
    }
  }
  for (const button of await page.locator('button').all()) {
    if (!(await button.innerText()).trim()) problems.push(`${where}: a button has no text`);
  }
  const silentErrors = await page.locator('.alert:not([role="alert"])').count();
  if (silentErrors > 0) problems.push(`${where}: ${silentErrors} error box(es) without role="alert"`);
  return problems;
}

export type ListeningApp = TestApp & { baseUrl: string };

export interface BrowserSuite {
  server(): ListeningApp;
  /** A fresh browser context (desktop-sized unless told otherwise), watched from its first page on. */
  openContext(options?: BrowserContextOptions): Promise<{ context: BrowserContext; watch: PageWatch }>;
}

const WAIT_MS = 10_000;

/** For a browser test file: one listening app and one Chromium, started before its tests and closed after. */
export function browserSuite(settings: RawSettings = {}): BrowserSuite {
  let app: ListeningApp | undefined;
  let browser: Browser | undefined;
  before(async () => {
    app = await startListeningTestApp(settings);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });
  const server = (): ListeningApp => {
    assert.ok(app, 'the app did not start');
    return app;
  };
  return {
    server,
    async openContext(options = {}) {
      assert.ok(browser, 'the browser did not start');
      const context = await browser.newContext({
        viewport: DESKTOP,
        baseURL: server().baseUrl,
        acceptDownloads: true,
        ...options,
      });
      context.setDefaultTimeout(WAIT_MS);
      return { context, watch: await watchContext(context) };
    },
  };
}

/** Waits for the page whose one <h1> reads exactly this. */
export async function waitForHeading(page: Page, name: string): Promise<void> {
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}

export async function assertAccessible(page: Page): Promise<void> {
  assert.deepEqual(await accessibilityProblems(page), []);
}

export function assertNoProblems(watch: PageWatch, who = 'the'): void {
  assert.deepEqual(watch.problems(), [], `${who} browser console:\n${watch.console().join('\n')}`);
}

/** Signs in through the portal's form (the page lands wherever the server sends it next). */
export async function signInOnPortal(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/signin');
  await waitForHeading(page, 'Sign in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  // Waits for the answer to commit: a navigation started right after would abort the redirect.
  const answered = page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame());
  await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
  await answered;
  await page.waitForLoadState();
}

/** Screenshots at desktop and phone width; nothing may stick out sideways on a phone. */
export async function assertScreenshots(page: Page, name: string): Promise<void> {
  const shot = await screenshotBothWidths(page, name);
  assert.equal(shot.phoneOverflow, 0, `${name} is ${shot.phoneOverflow}px wider than a phone screen`);
}

/**
 * Subtests that each need the one before: after a failure the rest are not run, since they would
 * only wait for pages that never come.
 */
export function dependentSteps(s: TestContext): (name: string, run: () => Promise<void>) => Promise<void> {
  let failed = false;
  return async (name, run) => {
    if (failed) return;
    await s.test(name, async () => {
      try {
        await run();
      } catch (error) {
        failed = true;
        throw error;
      }
    });
  };
}
