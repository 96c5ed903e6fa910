// The <option>s of a country select, named in the reader's language and sorted the way they sort.
import { countryCodes } from '../../core/countries.ts';
import { type Html, html } from './html.ts';
import type { PageView } from './layout.ts';

export function countryOptions(view: PageView, selected: string): Html[] {
  const names = new Intl.DisplayNames([view.locale], { type: 'region' });
  return countryCodes
    .map((code) => ({ code, name: names.of(code) ?? code }))
    .sort((a, b) => a.name.localeCompare(b.name, view.locale))
    .map(({ code, name }) => html`<option value="${code}" ${code === selected ? html`selected` : ''}>${name}</option>`);
}
