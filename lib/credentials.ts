/** Plain keys that look like credentials; they must go through the secret data of an `AppConfig`. */
const CREDENTIAL_KEY =
  /password|passwd|secret|token|bearer|credential|api_?key|private_?key|access_?key|(^|[_.-])(KEY|PWD|AUTH)([_.-]|$)/i;

/** True when a plain config key looks like it holds a credential. */
export function looksLikeCredential(key: string): boolean {
  return CREDENTIAL_KEY.test(key);
}
