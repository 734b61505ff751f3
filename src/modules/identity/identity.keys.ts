import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fail, isHotlineError } from '../../shared/errors.js';

// libsodium (docs/decisions/0008), through require: as an ES import, Node would parse the CommonJS
// package for its exports at every start of every command (test/cli.startup.test.ts).
const sodium = createRequire(import.meta.url)('sodium-native') as typeof import('sodium-native').default;

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A node's signing identity: the private key and the public key as raw base64url. */
export interface NodeKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Raw 32-byte Ed25519 public key, base64url without padding: the form peers pin. */
  readonly publicKeyB64: string;
}

export function generateKeys(): { keys: NodeKeys; privatePem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { keys: { privateKey, publicKey, publicKeyB64: rawPublicKey(publicKey) }, privatePem };
}

/** A private key as PKCS#8 PEM: encrypted with `passphrase` (node:crypto's PBES2, AES-256-CBC) when one is given. */
export function privateKeyPem(privateKey: KeyObject, passphrase?: string): string {
  return (passphrase === undefined
    ? privateKey.export({ type: 'pkcs8', format: 'pem' })
    : privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })).toString();
}

export function isEncryptedPem(pem: string): boolean {
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
}

const LOCKED_HELP = 'start the node with --passphrase-fd N (the passphrase on that file descriptor) or the systemd credential '
  + '"hotline-passphrase" ($CREDENTIALS_DIRECTORY/hotline-passphrase); never on the command line';

/** Loads a PKCS#8 PEM private key written by {@link generateKeys}, or an encrypted one with its passphrase. */
export function loadKeys(privatePem: string, passphrase?: string): NodeKeys {
  let privateKey: KeyObject;
  if (isEncryptedPem(privatePem)) {
    if (passphrase === undefined) fail('key_locked', `The node key is encrypted and no passphrase was given: ${LOCKED_HELP}`);
    try {
      privateKey = createPrivateKey({ key: privatePem, format: 'pem', passphrase });
    } catch {
      return fail('key_locked', 'The passphrase does not open the node key (wrong passphrase); nothing was done');
    }
  } else {
    try {
      privateKey = createPrivateKey(privatePem);
    } catch {
      return fail('config_invalid', 'The node key file is not a PEM private key');
    }
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') fail('config_invalid', 'The node key is not an Ed25519 key');
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, publicKeyB64: rawPublicKey(publicKey) };
}

function rawPublicKey(publicKey: KeyObject): string {
  return rawBytes(publicKey).toString('base64url');
}

/** The raw 32 bytes of each public KeyObject that has verified or been made here, kept as long as the KeyObject. */
const raws = new WeakMap<KeyObject, Buffer>();

function rawBytes(publicKey: KeyObject): Buffer {
  let raw = raws.get(publicKey);
  if (raw === undefined) {
    if (publicKey.type !== 'public' || publicKey.asymmetricKeyType !== 'ed25519') throw new Error('verifyText needs an Ed25519 public key');
    raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(SPKI_ED25519_PREFIX.length);
    raws.set(publicKey, raw);
  }
  return raw;
}

const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;

/** Parses a pinned raw base64url Ed25519 public key; refuses anything else. */
export function publicKeyFromB64(b64: string): KeyObject {
  if (!B64URL_32.test(b64)) fail('invalid_argument', 'A public key must be 32 bytes of base64url (43 characters)');
  const raw = Buffer.from(b64, 'base64url');
  if (raw.length !== 32 || raw.toString('base64url') !== b64) fail('invalid_argument', 'A public key must be 32 bytes in canonical base64url');
  // A small-order key (or one off the prime-order subgroup) is never made by key generation; under one, a
  // signature can be forged for any text, so a key like that proves nothing and is refused.
  if (!sodium.crypto_core_ed25519_is_valid_point(raw)) fail('invalid_argument', 'This is not a usable Ed25519 public key: it is not a point of the curve\'s prime-order subgroup (under a small-order key anyone can sign anything)');
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
  raws.set(key, raw);
  return key;
}

/** Ed25519 signature over UTF-8 text, as base64url. */
export function signText(privateKey: KeyObject, text: string): string {
  return sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64url');
}

/**
 * Whether `sigB64` is `publicKey`'s Ed25519 signature of the UTF-8 text. Checked by libsodium
 * (docs/decisions/0008): twice as fast as OpenSSL 3.0 here, and stricter. It also refuses
 * small-order and non-canonical keys and R values, so every signature it accepts, OpenSSL and
 * other RFC 8032 verifiers accept too.
 */
export function verifyText(publicKey: KeyObject, text: string, sigB64: string): boolean {
  if (typeof sigB64 !== 'string' || sigB64.length !== 86) return false;
  const sig = Buffer.from(sigB64, 'base64url');
  // Only the one canonical spelling verifies: a re-spelt signature would change the envelope's hash.
  if (sig.length !== 64 || sig.toString('base64url') !== sigB64) return false;
  return sodium.crypto_sign_verify_detached(sig, Buffer.from(text, 'utf8'), rawBytes(publicKey));
}

/**
 * The fingerprint a person reads aloud: SHA-512 of the raw public key, cut into eight 5-byte
 * chunks, each shown as a 5-digit group (chunk mod 100000). Digits read the same in every
 * language. Example: `40213 88190 01726 55302 97415 20668 31904 77251`.
 */
export function fingerprint(publicKeyB64: string): string {
  const digest = createHash('sha512').update(Buffer.from(publicKeyB64, 'base64url')).digest();
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) {
    const n = digest.readUIntBE(i * 5, 5) % 100000;
    groups.push(n.toString().padStart(5, '0'));
  }
  return groups.join(' ');
}

/**
 * The node's signing key, read from its key file: reread when the file is replaced (a rotation by
 * `hotline key rotate` in another process: a rename, so a new inode), checked with one stat call
 * per use, so a running node signs with the new key from the rotation on. An encrypted key needs
 * its passphrase; without one the public key is read from `<file>.pub` and signing is refused
 * (`key_locked`).
 */
export class KeyFile implements NodeKeys {
  private current: NodeKeys | undefined;
  private locked: { publicKey: KeyObject; publicKeyB64: string } | undefined;
  private stamp = '';

  constructor(readonly path: string, private readonly passphrase?: string) {
    this.load();
  }

  private load(): void {
    let st;
    try {
      st = statSync(this.path);
    } catch {
      if (this.current !== undefined || this.locked !== undefined) return; // replaced right now: keep the last one
      return fail('config_invalid', `Cannot read the node key ${this.path}`);
    }
    const stamp = `${st.ino}:${st.mtimeMs}:${st.size}`;
    if (stamp === this.stamp) return;
    const pem = readFileSync(this.path, 'utf8');
    try {
      this.current = loadKeys(pem, this.passphrase);
      this.locked = undefined;
    } catch (e) {
      if (!isHotlineError(e) || e.code !== 'key_locked' || this.passphrase !== undefined) throw e;
      let pub: string;
      try {
        pub = readFileSync(`${this.path}.pub`, 'utf8').trim();
      } catch {
        throw e;
      }
      this.current = undefined;
      this.locked = { publicKey: publicKeyFromB64(pub), publicKeyB64: pub };
    }
    this.stamp = stamp;
  }

  private keys(): NodeKeys {
    this.load();
    if (this.current === undefined) return fail('key_locked', `The node key is encrypted and no passphrase was given: ${LOCKED_HELP}`);
    return this.current;
  }

  get privateKey(): KeyObject {
    return this.keys().privateKey;
  }

  get publicKey(): KeyObject {
    this.load();
    return this.current?.publicKey ?? this.locked!.publicKey;
  }

  get publicKeyB64(): string {
    this.load();
    return this.current?.publicKeyB64 ?? this.locked!.publicKeyB64;
  }

  /** Whether the private key is available (not encrypted, or opened with its passphrase). */
  get unlocked(): boolean {
    this.load();
    return this.current !== undefined;
  }

  /** The passphrase the key was opened with (a rotation encrypts the new key with it). */
  get secret(): string | undefined {
    return this.passphrase;
  }
}
