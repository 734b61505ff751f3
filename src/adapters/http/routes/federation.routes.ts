import { Type } from '@sinclair/typebox';
import type { Api } from '../typed.js';
import { fail } from '../../../shared/errors.js';
import { receiveBatch, type ReceiveDeps } from '../../../modules/federation/federation.receive.js';
import type { Metrics } from '../metrics.js';
import { answerChallenge } from '../../../modules/federation/federation.proof.js';
import { CHALLENGE_PATH, FEDERATION_PATH } from '../transport.js';

const BatchBody = Type.Object({ envelopes: Type.Array(Type.Object({}, { additionalProperties: true })) }, { additionalProperties: false });

/** POST a batch of signed envelopes; answers 200 with one receipt or refusal per envelope, in order. */
export function federationRoutes(app: Api, deps: ReceiveDeps, metrics: Metrics): void {
  app.post(FEDERATION_PATH, {
    attachValidation: true,
    schema: {
      tags: ['federation'],
      summary: 'Receive a batch of signed envelopes from a peer',
      description: 'See docs/protocol.md. Each envelope is verified against the pinned key of its `from`; the answer holds a signed receipt or a refusal with a stable code for each, in order.',
      body: BatchBody,
    },
  }, async (req) => {
    // attachValidation: the handler runs whatever the body is, and refuses it itself (invalid_batch).
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || !('envelopes' in body) || !Array.isArray(body.envelopes) || Object.keys(body).length !== 1) {
      fail('invalid_batch', 'The body must be {"envelopes": [ ... ]}');
    }
    const stop = metrics.batchSeconds.startTimer();
    const results = await receiveBatch(deps, body.envelopes);
    stop();
    for (const r of results) {
      if (r.ok) metrics.received.inc({ from: r.receipt.to });
      else metrics.refused.inc({ code: r.error.code });
    }
    return { results };
  });

  // A key challenge (docs/protocol.md section 9.4): the answer proves this endpoint holds the node's key.
  app.post(CHALLENGE_PATH, {
    attachValidation: true,
    schema: {
      tags: ['federation'],
      summary: 'Prove this node holds its key: sign a fresh challenge',
      description: 'See docs/protocol.md section 9.4. The body is a hotline-key-challenge addressed to this node; the answer is a hotline-key-proof signed with its key over a domain-separated text.',
      body: Type.Object({}, { additionalProperties: true }),
    },
  }, async (req) => answerChallenge(req.body, deps.self.party, deps.keys));
}
