// Looks up user-facing strings by id and locale, and picks the locale from a request.
import { en, type TextId } from './en.ts';
import { nl } from './nl.ts';

export type { TextId } from './en.ts';

export const locales = { en, nl } as const;
export type Locale = keyof typeof locales;
export const supportedLocales = Object.keys(locales) as Locale[];
export const localeNames: Record<Locale, string> = { en: 'English', nl: 'Nederlands' };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && Object.hasOwn(locales, value);
}

export function t(locale: Locale, id: TextId, params: Record<string, string | number> = {}): string {
  const template: string = locales[locale][id] ?? en[id];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** The best supported locale for an Accept-Language header (RFC 9110 §12.5.4), English if none fits. */
export function localeFromAcceptLanguage(header: string | undefined): Locale {
  if (!header) return 'en';
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { language: tag.trim().toLowerCase().split('-')[0] ?? '', q: q === undefined ? 1 : Number(q) };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q);
  return ranked.map((entry) => entry.language).find(isLocale) ?? 'en';
}
