import { Type } from '@sinclair/typebox';
import type { Api } from '../typed.js';
import type { NodeContext } from '../../../context.js';
import { buildTranscript, transcriptText } from '../../../modules/transcripts/transcripts.service.js';
import { auditRequest, authenticate, principalOf } from '../auth.js';

const Params = Type.Object({ id: Type.String({ description: 'The case id (a UUID)' }) });

const Query = Type.Object({
  include_red: Type.Optional(Type.Boolean({
    default: false,
    description: 'Include the TLP:RED messages the token\'s user may read (a named recipient, or the writer); every other red message, whatever the role, is listed in "withheld"',
  })),
}, { additionalProperties: false });

/**
 * Case transcripts: the same signed file `hotline transcript` writes, byte for byte, so that a
 * saved response verifies with `hotline verify FILE` (docs/protocol.md section 13.1).
 */
export function transcriptsRoutes(app: Api, ctx: NodeContext): void {
  const onRequest = authenticate(ctx);
  app.get('/api/v1/cases/:id/transcript', {
    onRequest,
    schema: {
      tags: ['cases'],
      summary: 'The signed, self-contained transcript of a case, for "hotline verify FILE" anywhere',
      description: 'Messages on channels the token does not hold are left out (a case with none is 404 not_found); TLP:RED messages are withheld and listed unless include_red is asked for and the user may read them (the administrator is no exception).',
      security: [{ bearer: [] }],
      params: Params,
      querystring: Query,
    },
  }, async (req, reply) => {
    const q = req.query;
    const t = await buildTranscript(ctx, req.params.id, { viewer: principalOf(req), includeRed: q.include_red === true });
    const text = transcriptText(t);
    await auditRequest(ctx, req, { action: 'transcript', subject: t.case, details: { messages: t.messages.length, withheld: t.withheld.length, include_red: q.include_red === true } });
    return reply.type('application/json; charset=utf-8').send(text);
  });
}
