import { UAParser } from 'ua-parser-js';

// Session/audit metadata derived from the User-Agent header, in the shape the Django API stored.
export type DeviceType = 'mobile' | 'tablet' | 'pc' | 'bot' | 'unknown';

export interface UserAgentInfo {
  deviceType: DeviceType;
  browser: string;
  os: string;
  userAgent: string;
}

const MAX_UA = 500;
const MAX_FIELD = 100;
const BOT = /bot|crawler|spider|curl|wget|python-requests|httpclient/i;
const DESKTOP_OS = new Set([
  'Windows',
  'Mac OS',
  'macOS',
  'Linux',
  'Ubuntu',
  'Debian',
  'Fedora',
  'Mint',
  'Arch',
  'CentOS',
  'RedHat',
  'SUSE',
  'Gentoo',
  'Chromium OS',
  'FreeBSD',
  'OpenBSD',
  'NetBSD',
  'Solaris',
]);
// A known browser on one of these is not a PC even when the parser could not name the device.
const MOBILE_OS = new Set([
  'Android',
  'iOS',
  'Windows Phone',
  'Windows Mobile',
  'BlackBerry',
  'KaiOS',
  'HarmonyOS',
]);

/** "Family major.minor.patch": Django's user_agents reported at most three version parts. */
function label(name: string | undefined, version: string | undefined): string {
  if (!name) return '';
  const short = version?.split('.').slice(0, 3).join('.');
  return (short ? `${name} ${short}` : name).slice(0, MAX_FIELD);
}

export function describeUserAgent(ua: string | undefined | null): UserAgentInfo {
  if (!ua) return { deviceType: 'unknown', browser: '', os: '', userAgent: '' };
  const userAgent = ua.slice(0, MAX_UA);
  // Parse the full header: truncation only limits what we store.
  const result = new UAParser(ua).getResult();
  const browser = label(result.browser.name, result.browser.version);
  const os = label(result.os.name, result.os.version);
  return { deviceType: classify(ua, result), browser, os, userAgent };
}

function classify(ua: string, result: UAParser.IResult): DeviceType {
  if (BOT.test(ua)) return 'bot';
  const type = result.device.type;
  if (type === 'mobile' || type === 'tablet') return type;
  if (type !== undefined) return 'unknown'; // console, smart TV, wearable, embedded
  const osName = result.os.name;
  if (osName !== undefined && DESKTOP_OS.has(osName)) return 'pc';
  if (result.browser.name !== undefined && (osName === undefined || !MOBILE_OS.has(osName))) return 'pc';
  return 'unknown';
}
