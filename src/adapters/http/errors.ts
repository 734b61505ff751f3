import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HotlineError, type ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

/** The one table from stable error codes to HTTP statuses. Unlisted codes are 400. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  unsupported_media_type: 415,
  not_found: 404,
  unknown_peer: 403,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  envelope_too_large: 413,
  batch_too_large: 413,
  body_too_large: 413,
  peer_exists: 409,
  peer_removed: 409,
  descriptor_not_pinned: 409,
  unknown_user: 404,
  user_exists: 409,
  replay_mismatch: 409,
  pong_without_ping: 404,
  ping_already_answered: 409,
  contact_in_rota: 409,
  case_closed: 409,
  invalid_transition: 409,
  preservation_state: 409,
  not_acceptable: 406,
  bundle_invalid: 422,
  stix_invalid: 422,
  collection_exists: 409,
  sink_exists: 409,
  storage_error: 503,
  store_busy: 503,
  store_unreachable: 503,
  store_not_empty: 409,
  feeds_busy: 503,
  template_invalid: 500,
  preset_invalid: 500,
  internal: 500,
  already_running: 409,
  bad_credentials: 401,
  totp_required: 401,
  totp_invalid: 401,
  totp_enrolment_required: 403,
  signin_locked: 429,
  csrf_failed: 403,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code] ?? 400;
}

/** Translates what fastify itself refuses (media type, body size, JSON syntax, schema) into our codes. */
export function fromFastify(err: FastifyError): HotlineError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HotlineError('unsupported_media_type', 'Send the body as application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HotlineError('batch_too_large', 'The request body is larger than this node accepts');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HotlineError('malformed_json', `The body is not valid JSON: ${err.message}`);
    default:
      break;
  }
  if (err instanceof SyntaxError || err.statusCode === 400 && /JSON/i.test(err.message) && err.validation === undefined) {
    return new HotlineError('malformed_json', `The body is not valid JSON: ${err.message}`);
  }
  if (err.validation !== undefined) return new HotlineError('invalid_argument', err.message);
  return undefined;
}

/** RFC 9457 problem+json for every error; the stable code is in `code`. */
export function errorHandler(log: Logger) {
  return (err: FastifyError | HotlineError | Error, req: FastifyRequest, reply: FastifyReply): void => {
    const known = err instanceof HotlineError ? err : fromFastify(err as FastifyError);
    const e = known ?? new HotlineError('internal', 'The node failed to handle this request; see its log');
    if (known === undefined) log.error({ err, url: req.url }, 'unhandled error');
    const status = statusOf(e.code);
    void reply.status(status).type('application/problem+json').send({
      type: `urn:hotline:problem:${e.code}`,
      title: e.code.replace(/_/g, ' '),
      status,
      detail: e.message,
      code: e.code,
      ...(e.details === undefined ? {} : { details: e.details }),
    });
  };
}
