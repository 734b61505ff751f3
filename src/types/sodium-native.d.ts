/** The part of sodium-native (libsodium bindings, docs/decisions/0008) that Hotline uses. A CommonJS module: import its default. */
declare module 'sodium-native' {
  interface Sodium {
    /** libsodium's crypto_sign_verify_detached: a 64-byte Ed25519 signature of `message` by the raw 32-byte `publicKey`. */
    crypto_sign_verify_detached(signature: Buffer, message: Buffer, publicKey: Buffer): boolean;
    /** libsodium's crypto_core_ed25519_is_valid_point: canonical, on the curve, in the prime-order subgroup, not of small order. */
    crypto_core_ed25519_is_valid_point(point: Buffer): boolean;
  }
  const sodium: Sodium;
  export default sodium;
}
