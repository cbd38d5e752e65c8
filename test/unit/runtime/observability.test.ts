import { afterEach, describe, expect, it, vi } from 'vitest';

/** Imports a fresh copy of the module, so the tracer is built under the environment set by the test. */
async function freshTracer() {
  vi.resetModules();
  return (await import('../../../shared/runtime/observability')).tracer;
}

describe('tracer configuration: no personal data in traces', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('never records responses or outbound HTTP requests, even when the environment asks for them', async () => {
    vi.stubEnv('POWERTOOLS_TRACER_CAPTURE_RESPONSE', 'true');
    vi.stubEnv('POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS', 'true');
    const tracer = await freshTracer();
    expect(Reflect.get(tracer, 'captureResponse')).toBe(false);
    expect(Reflect.get(tracer, 'captureHTTPsRequests')).toBe(false);
    // Errors stay traced: they are how a failing dependency is found.
    expect(Reflect.get(tracer, 'captureError')).toBe(true);
  });

  it('adds no response metadata to a segment when tracing is active', async () => {
    const tracer = await freshTracer();
    vi.spyOn(tracer, 'isTracingEnabled').mockReturnValue(true);
    const putMetadata = vi.spyOn(tracer, 'putMetadata').mockImplementation(() => {});
    tracer.addResponseAsMetadata({ email: 'jane.doe@example.com', phone: '+441234567890' }, 'handler');
    expect(putMetadata).not.toHaveBeenCalled();
  });
});
