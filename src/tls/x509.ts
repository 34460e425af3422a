// X.509 v3 certificates signed with ECDSA P-256, built with node:crypto alone. Node can make
// keys, sign and parse certificates (X509Certificate) but has no API that creates one, so the
// TBSCertificate is encoded here (RFC 5280) and signed with crypto.sign. Chosen over
// @peculiar/x509 (its tsyringe/reflect-metadata dependencies patch the global Reflect in every
// process that loads testrig), node-forge (RSA-only certificates, pure-JS key generation) and
// the openssl CLI (a binary to find, and flags that differ between OpenSSL and LibreSSL).
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto'
import net from 'node:net'
import { bits, bool, ctx, namedBits, octets, oid, seq, set, small, time, uint, utf8 } from './der.ts'

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'))

/** What a certificate says. */
export interface CertificateSpec {
  /** Common name of the subject. */
  subject: string
  /** Common name of the issuer (= subject for the self-signed CA). */
  issuer: string
  /** The subject's public key. */
  publicKey: KeyObject
  /** The issuer's private key. */
  signingKey: KeyObject
  /** The issuer's public key, for the authority key identifier. */
  issuerPublicKey: KeyObject
  notBefore: Date
  notAfter: Date
  /** A CA: may sign certificates, only for names under `.localhost` and loopback addresses. */
  ca?: boolean
  /** IPv4 ranges such a CA may vouch for besides, e.g. `10.213.7.0/24` (an environment's hosts CA). */
  permitIpv4?: readonly { base: number; prefix: number }[]
  /** DNS names and IP addresses of a server certificate. */
  names?: readonly string[]
}

const name = (cn: string): Buffer => seq(set(seq(oid('2.5.4.10'), utf8('testrig'))), set(seq(oid('2.5.4.3'), utf8(cn))))

const ext = (id: string, critical: boolean, value: Buffer): Buffer => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value))

/** SHA-1 of the subjectPublicKey bits, as RFC 5280 §4.2.1.2 (1) suggests for key identifiers. */
function keyId(key: KeyObject): Buffer {
  const spki = key.export({ type: 'spki', format: 'der' })
  // The EC point is the last 65 bytes of a P-256 SubjectPublicKeyInfo.
  return createHash('sha1').update(spki.subarray(spki.length - 65)).digest()
}

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number))
  const [head = '', tail = ''] = ip.split('::')
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]))
}

/** subjectAltName entries: dNSName [2] or iPAddress [7]. */
const altNames = (names: readonly string[]): Buffer => seq(...names.map((n) => (net.isIP(n) ? ctx(7, ipBytes(n), false) : ctx(2, Buffer.from(n, 'ascii'), false))))

/**
 * The CA may only vouch for `localhost` and names under it, and loopback addresses: trusting it
 * system-wide cannot let its key impersonate any other site (RFC 5280 §4.2.1.10).
 */
const LOCAL_SUBTREES = [seq(ctx(2, Buffer.from('localhost'), false)), seq(ctx(7, Buffer.from([127, 0, 0, 0, 255, 0, 0, 0]), false)), seq(ctx(7, Buffer.concat([ipBytes('::1'), Buffer.alloc(16, 0xff)]), false))]

/** The permitted subtrees: the local ones, and `ranges` (address and mask, 8 bytes each). */
function permitted(ranges: readonly { base: number; prefix: number }[]): Buffer {
  const extra = ranges.map((r) => {
    const b = Buffer.alloc(8)
    b.writeUInt32BE(r.base >>> 0, 0)
    b.writeUInt32BE(r.prefix === 0 ? 0 : (0xffffffff << (32 - r.prefix)) >>> 0, 4)
    return seq(ctx(7, b, false))
  })
  return seq(ctx(0, Buffer.concat([...LOCAL_SUBTREES, ...extra])))
}

/** Builds and signs a certificate; returns it as PEM. */
export function createCertificate(spec: CertificateSpec): string {
  const serial = randomBytes(16)
  serial[0] = (serial[0] as number) & 0x7f
  const extensions = spec.ca
    ? [ext('2.5.29.19', true, seq(bool(true), small(0))), ext('2.5.29.15', true, namedBits(0, 5, 6)), ext('2.5.29.30', true, permitted(spec.permitIpv4 ?? [])), ext('2.5.29.14', false, octets(keyId(spec.publicKey)))]
    : [
        ext('2.5.29.19', true, seq()),
        ext('2.5.29.15', true, namedBits(0)),
        ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
        ext('2.5.29.17', false, altNames(spec.names ?? [])),
        ext('2.5.29.14', false, octets(keyId(spec.publicKey))),
      ]
  extensions.push(ext('2.5.29.35', false, seq(ctx(0, keyId(spec.issuerPublicKey), false))))
  const tbs = seq(
    ctx(0, small(2)),
    uint(serial),
    ECDSA_SHA256,
    name(spec.issuer),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject),
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    ctx(3, seq(...extensions)),
  )
  const signature = sign('sha256', tbs, { key: spec.signingKey, dsaEncoding: 'der' })
  const der = seq(tbs, ECDSA_SHA256, bits(signature))
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`
}
