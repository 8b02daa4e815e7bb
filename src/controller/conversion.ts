/**
 * The CRD conversion webhook: the API server sends a `ConversionReview` (apiextensions.k8s.io/v1)
 * whenever a LatticeService is read or written in a version other than the stored one; Lattice
 * answers with the objects converted (src/api/latticeservice/conversion.ts).
 *
 * Contract (kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definition-versioning/#webhook-request-and-response):
 * the response echoes `request.uid`, sets `result.status` to `Success` with `convertedObjects` in the
 * request's order (each with `apiVersion` = `desiredAPIVersion`, metadata other than labels and
 * annotations unchanged), or to `Failure` (a metav1.Status) with a message and no objects. A
 * malformed review is answered with HTTP 400 and a Failure too; the handler never throws.
 *
 * Served over HTTPS only (the API server calls webhooks over TLS), by every replica, leader or not:
 * the Service `lattice-controller-webhook` routes to any ready pod. The serving certificate is
 * issued by cert-manager into a Secret mounted at `--webhook-cert-dir` (`tls.crt`, `tls.key`) and
 * re-read when it changes (cert-manager renews it before expiry).
 */
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ConversionError, convertLatticeService } from '../api/latticeservice/index.ts';
import { CONVERSION_WEBHOOK } from '../api/constants.ts';
import { listenOn } from './http.ts';

/** apiVersion of the review. */
export const CONVERSION_REVIEW_API_VERSION = 'apiextensions.k8s.io/v1';

/** The response half of a ConversionReview. */
export interface ConversionResponse {
  uid: string;
  result: { status: 'Success' } | { status: 'Failure'; message: string };
  convertedObjects: unknown[];
}

/** A whole ConversionReview answer. */
export interface ConversionReviewAnswer {
  apiVersion: typeof CONVERSION_REVIEW_API_VERSION;
  kind: 'ConversionReview';
  response: ConversionResponse;
}

type Raw = Record<string, unknown>;
const isObject = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Answers one ConversionReview body (already parsed JSON). `ok` is false when the review itself was malformed. */
export function reviewConversion(body: unknown): { ok: boolean; answer: ConversionReviewAnswer } {
  const answer = (uid: string, response: Omit<ConversionResponse, 'uid'>): ConversionReviewAnswer => ({
    apiVersion: CONVERSION_REVIEW_API_VERSION,
    kind: 'ConversionReview',
    response: { uid, ...response },
  });
  const fail = (uid: string, message: string, ok = true): { ok: boolean; answer: ConversionReviewAnswer } => ({
    ok,
    answer: answer(uid, { result: { status: 'Failure', message }, convertedObjects: [] }),
  });
  if (!isObject(body) || body.kind !== 'ConversionReview' || !isObject(body.request)) {
    return fail('', `not a ConversionReview: expected {"apiVersion": "${CONVERSION_REVIEW_API_VERSION}", "kind": "ConversionReview", "request": {...}}`, false);
  }
  const request = body.request;
  const uid = typeof request.uid === 'string' ? request.uid : '';
  if (body.apiVersion !== CONVERSION_REVIEW_API_VERSION) {
    return fail(uid, `ConversionReview ${String(body.apiVersion)} is not supported: the CRD's conversionReviewVersions is [v1]`, false);
  }
  if (uid === '') return fail(uid, 'request.uid is missing', false);
  if (typeof request.desiredAPIVersion !== 'string' || !Array.isArray(request.objects)) {
    return fail(uid, 'request.desiredAPIVersion (a string) and request.objects (a list) are required', false);
  }
  const converted: unknown[] = [];
  for (const [i, object] of (request.objects as unknown[]).entries()) {
    try {
      converted.push(convertLatticeService(object, request.desiredAPIVersion));
    } catch (err) {
      const meta = isObject(object) && isObject(object.metadata) ? object.metadata : {};
      const name = typeof meta.name === 'string' ? `${typeof meta.namespace === 'string' ? `${meta.namespace}/` : ''}${meta.name}` : `#${i}`;
      const why = err instanceof ConversionError ? err.message : `internal error: ${(err as Error).message}`;
      return fail(uid, `cannot convert object ${name} to ${request.desiredAPIVersion}: ${why}`);
    }
  }
  return { ok: true, answer: answer(uid, { result: { status: 'Success' }, convertedObjects: converted }) };
}

/** The most a review body may hold: a list conversion of many objects (each at most 1.5 MiB in etcd). */
export const MAX_REVIEW_BYTES = 64 * 1024 * 1024;

/** The request handler: `POST <path>` with a JSON ConversionReview; anything else gets a clear 4xx. */
export function conversionHandler(req: IncomingMessage, res: ServerResponse): void {
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const path = (req.url ?? '/').split('?')[0];
  if (path !== CONVERSION_WEBHOOK.path) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: conversion reviews are served at ${CONVERSION_WEBHOOK.path}\n`);
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { 'content-type': 'text/plain', allow: 'POST' }).end('method not allowed: POST a ConversionReview\n');
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_REVIEW_BYTES) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on('error', () => res.destroy());
  req.on('end', () => {
    if (tooLarge) {
      send(413, reviewConversion(undefined).answer);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      const { answer } = reviewConversion(undefined);
      answer.response.result = { status: 'Failure', message: `the body is not JSON: ${(err as Error).message}` };
      send(400, answer);
      return;
    }
    const { ok, answer } = reviewConversion(body);
    send(ok ? 200 : 400, answer);
  });
}

/** A running webhook server. */
export interface WebhookServer {
  /** `https://host:port` it listens on. */
  url: string;
  close(): Promise<void>;
}

/** Where the serving certificate is: a folder with `tls.crt` and `tls.key` (a mounted kubernetes.io/tls Secret). */
export interface WebhookTls {
  certDir: string;
  /** How often to look for a renewed certificate, in ms (default 60 s). */
  reloadMs?: number;
}

function readPair(certDir: string): { cert: Buffer; key: Buffer; mtime: number } {
  const certFile = join(certDir, 'tls.crt');
  const keyFile = join(certDir, 'tls.key');
  const mtime = Math.max(statSync(certFile).mtimeMs, statSync(keyFile).mtimeMs);
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), mtime };
}

/**
 * Serves the conversion webhook over HTTPS on `listen`. Throws (with the path) when the certificate
 * cannot be read at start; a renewed certificate is picked up without a restart, and an unreadable
 * renewal keeps the last good one (the error goes to `onError`).
 */
export async function serveConversionWebhook(listen: { host: string; port: number }, tls: WebhookTls, onError: (err: Error) => void = () => undefined): Promise<WebhookServer> {
  let pair: ReturnType<typeof readPair>;
  try {
    pair = readPair(tls.certDir);
  } catch (err) {
    throw new Error(`cannot read the webhook's serving certificate in ${tls.certDir} (tls.crt, tls.key): ${(err as Error).message}`);
  }
  const server: Server = createServer({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' }, conversionHandler);
  const timer = setInterval(() => {
    try {
      const next = readPair(tls.certDir);
      if (next.mtime !== pair.mtime) {
        server.setSecureContext({ cert: next.cert, key: next.key });
        pair = next;
      }
    } catch (err) {
      onError(err as Error);
    }
  }, tls.reloadMs ?? 60_000);
  timer.unref();
  return listenOn(server, listen, 'https', () => clearInterval(timer));
}
