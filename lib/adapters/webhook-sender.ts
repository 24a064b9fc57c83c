import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ValidationError } from '../domain/errors';
import type { WebhookAttempt, WebhookSender } from '../ports';

/**
 * Addresses a deployed stage never POSTs to: a subscription must not become a
 * way into the VPC, the instance metadata endpoint (169.254.169.254) or the
 * function's own loopback (server-side request forgery). IPv4-mapped IPv6
 * addresses are judged by the IPv4 address they carry.
 */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  // Unspecified, loopback, and IPv4-compatible (::a.b.c.d) addresses.
  ['::', 96],
  ['::1', 128],
  // 6to4 carries an IPv4 address of any kind: refused whole.
  ['2002::', 16],
  ['64:ff9b:1::', 48],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');
}

/** Whether a deployed stage must refuse to send to this address. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return FORBIDDEN.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return FORBIDDEN.check(mapped[1]!, 'ipv4');
  return FORBIDDEN.check(address, 'ipv6');
}

/**
 * A DNS lookup that fails for a forbidden address: the connection is made to the
 * address judged, so a name that resolves to a public address when subscribed
 * and to a private one when sent (DNS rebinding) is still refused.
 */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const allowed = allowPrivate ? addresses : addresses.filter((a) => !isForbiddenAddress(a.address));
      if (allowed.length === 0) {
        const refused = Object.assign(new Error(`${hostname} resolves to an address webhooks may not reach`), { code: 'EADDRNOTAVAIL' });
        return callback(refused, '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');

/**
 * Sends deliveries over node:http(s), each within its time limit, reading no
 * more of the answer than its status. `allowPrivate`: the local stack, whose
 * receivers run on loopback.
 */
export function httpWebhookSender(options: { allowPrivate: boolean }): WebhookSender {
  const lookup = guardedLookup(options.allowPrivate);
  return {
    async assertReachable(raw) {
      if (options.allowPrivate) return;
      const url = new URL(raw);
      const host = hostOf(url);
      const addresses = isIP(host)
        ? [host]
        : await new Promise<string[]>((resolve) => {
            dnsLookup(host, { all: true }, (error, found) => resolve(error ? [] : found.map((a) => a.address)));
          });
      if (addresses.length === 0) throw ValidationError.field('url', `the host ${host} could not be resolved`);
      if (addresses.some(isForbiddenAddress)) {
        throw ValidationError.field('url', 'must not point at a private, loopback or link-local address');
      }
    },

    send({ url: raw, body, headers, timeoutMs }) {
      const url = new URL(raw);
      const host = hostOf(url);
      if (!options.allowPrivate && isIP(host) && isForbiddenAddress(host)) {
        return Promise.resolve({ status_code: null, error: 'refused: a private, loopback or link-local address' });
      }
      const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
      return new Promise<WebhookAttempt>((resolve) => {
        const req = request(
          url,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'ticket-booking-webhooks/1', ...headers },
            lookup,
            timeout: timeoutMs,
            signal: AbortSignal.timeout(timeoutMs),
          },
          (res) => {
            // The status is the answer; the body is the receiver's business.
            res.resume();
            res.on('end', () => resolve({ status_code: res.statusCode ?? null }));
            res.on('error', () => resolve({ status_code: res.statusCode ?? null }));
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', (error) => resolve({ status_code: null, error: error.message }));
        req.end(body);
      });
    },
  };
}
