// What a push shows about the request it asks to approve (SPEC §3.6): the browser or app, the
// address and an approximate place. Country-level only, from the GeoLite2 data shipped in
// geoip-country; private and loopback addresses are "local network".
import Bowser from 'bowser';
import geoip from 'geoip-country';

export interface RequestOrigin {
  browser: string;
  ip: string;
  place: string;
  at: string;
}

const PRIVATE =
  /^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|::1$|fc|fd|fe80:|::ffff:(127|10|192\.168)\.)/i;

export function describeBrowser(userAgent: string | null): string {
  if (!userAgent) return 'Unknown browser or app';
  const parsed = Bowser.parse(userAgent);
  const browser = parsed.browser.name || userAgent.split(/[\s/]/)[0] || 'Unknown';
  const system = parsed.os.name || undefined;
  return system ? `${browser} on ${system}` : browser;
}

export function approximatePlace(ip: string): string {
  if (PRIVATE.test(ip)) return 'local network';
  return geoip.lookup(ip)?.name ?? 'unknown place';
}

export function requestOrigin(ip: string, userAgent: string | null, at: Date): RequestOrigin {
  return { browser: describeBrowser(userAgent), ip, place: approximatePlace(ip), at: at.toISOString() };
}
