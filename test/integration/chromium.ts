// Real headless Chromium (Debian's chromium package) driven by playwright-core, for the tests that
// look at what users see: the Temporal Web UI and the HTML report.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BrowserContext, Page, chromium } from 'playwright-core';
import { REPO_ROOT } from '../../platform/config';

const CHROMIUM = process.env.SWEEP_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why the tests that need a browser are skipped, or false when Chromium is there. infra/setup.sh
 * installs Debian's package where it can (root with apt-get).
 */
export const NO_CHROMIUM: string | false = !fs.existsSync(CHROMIUM)
  && `no Chromium at ${CHROMIUM}: setup installs Debian's chromium package where it runs as root with apt-get; otherwise install it or set SWEEP_CHROMIUM`;

export interface Browser {
  page: Page;
  /** console.error messages and uncaught page errors, in order. */
  errors: string[];
  close(): Promise<void>;
}

/** A fresh profile each time, nothing phoning home. */
export async function openChromium(viewport = { width: 1400, height: 900 }): Promise<Browser> {
  if (NO_CHROMIUM) throw new Error(NO_CHROMIUM);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  page.on('pageerror', (error) => errors.push(error.message));
  return {
    page,
    errors,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Where a test saves its screenshots: a temporary folder, or the folder SWEEP_SCREENSHOTS names
 * (docs/screenshots for the committed ones), so a test run does not rewrite tracked files.
 */
export function screenshotPath(name: string): string {
  const dir = process.env.SWEEP_SCREENSHOTS ? path.resolve(REPO_ROOT, process.env.SWEEP_SCREENSHOTS) : path.join(os.tmpdir(), 'sweep-screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
