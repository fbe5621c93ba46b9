import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Instance } from './directus.js';
import { directusMajor } from './host.js';

/** Debian's chromium (PLATFORM.md): Playwright cannot download its own browser here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots of this run; those of the Directus 11 smoke run beside them, in a folder of their own. */
export const ARTIFACTS = new URL(`../../test/artifacts/${directusMajor === 12 ? '' : `directus-${directusMajor}/`}`, import.meta.url).pathname;

export function launchChromium(): Promise<Browser> {
	if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
	mkdirSync(ARTIFACTS, { recursive: true });
	return chromium.launch({
		executablePath: CHROMIUM,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
	});
}

/** Every response body the page received, kept to prove no plaintext ever reached the browser. */
export function recordResponses(page: Page): { url: string; body: string }[] {
	const seen: { url: string; body: string }[] = [];
	page.on('response', async (response) => {
		try {
			seen.push({ url: response.url(), body: await response.text() });
		} catch {
			/* redirects and aborted requests have no body */
		}
	});
	return seen;
}

/** A browser context signed in to the Data Studio, with the licence pop-ups dismissed. */
async function signIn(browser: Browser, instance: Instance, email: string, password: string): Promise<BrowserContext> {
	// A common laptop screen: the README's screenshots show what most people see.
	const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, colorScheme: 'light' });
	await context.addCookies(
		['license-onboarding-dismissed', 'license-banner-dismissed', 'license-login-modal-dismissed'].map((name) => ({ name, value: 'true', url: instance.url })),
	);
	const page = await context.newPage();
	await page.goto(`${instance.url}/admin/login`);
	await page.fill('input[type="email"]', email);
	await page.fill('input[type="password"]', password);
	await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/admin/') && !u.pathname.startsWith('/admin/login')), page.click('button[type="submit"]')]);
	await page.close();
	return context;
}

/**
 * Signed-in sessions for one file: a user signs in once, and each later page of theirs opens in that
 * warm context (its session cookie, its HTTP cache) instead of a new sign-in and a cold load of the
 * app — about half of each Studio test's time on a 2-core machine. A page in the dark theme
 * emulates the colour scheme, as a context made dark would.
 */
export function studioSessions(browser: Browser, instance: Instance) {
	const contexts = new Map<string, Promise<BrowserContext>>();
	return async (email: string, password: string, options: { colorScheme?: 'light' | 'dark' } = {}): Promise<{ page: Page; close: () => Promise<void> }> => {
		let context = contexts.get(email);
		if (!context) {
			context = signIn(browser, instance, email, password);
			contexts.set(email, context);
		}
		const page = await (await context).newPage();
		if (options.colorScheme) await page.emulateMedia({ colorScheme: options.colorScheme });
		return { page, close: () => page.close() };
	};
}

/** Controls of Directus's own Studio that differ between majors: 11's icon buttons have no accessible name. */
export const studioControls = {
	/** The item page's save menu (Save and Stay, Save as Copy…). */
	saveOptions: (page: Page) =>
		directusMajor >= 12 ? page.locator('header').getByRole('button', { name: 'More options' }) : page.locator('header button:has(i[data-icon="more_vert"])'),
	/** A drawer's save button (the field editor's). */
	drawerSave: (page: Page) =>
		(directusMajor >= 12 ? page.locator('.v-drawer').getByRole('button', { name: 'Save', exact: true }) : page.locator('.v-drawer button:has(i[data-icon="check"])')).filter({ visible: true }).first(),
};
