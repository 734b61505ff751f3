/**
 * Secrets out of what is logged or shown: a URL's credentials (`user:password@`), query string
 * and fragment are where webhook tokens live (`https://hooks.example/T0/B1?token=...`). Used for
 * every log line that names a notification target or carries a sink's error.
 */

/** A URL (http, https, ftp, ws, wss, smtp...) inside free text. */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]*@)?([^\s/?#]*)([^\s?#]*)(\?[^\s#]*)?(#\S*)?/gi;

/**
 * `text` with every URL in it reduced to scheme, host and path: credentials become `***@`, a
 * query string `?***`, a fragment `#***`. Text without a URL is returned as is.
 *
 * @example redactUrls('POST https://u:p@hooks.example/x?token=s3cret failed') === 'POST https://***@hooks.example/x?*** failed'
 */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (_m, scheme: string, creds: string | undefined, host: string, path: string, query: string | undefined, hash: string | undefined) =>
    `${scheme}${creds === undefined ? '' : '***@'}${host}${path}${query === undefined ? '' : '?***'}${hash === undefined ? '' : '#***'}`);
}
