// A small agent instrumented by hand with the OpenTelemetry Node SDK, as a
// user with a tracer already in place would write it: an agent span, a
// chat span around an OpenAI call (its traceparent header carries the
// span), a GenAI tool span, and a failing step. The SDK exports to
// OTEL_EXPORTER_OTLP_ENDPOINT, over OTLP/HTTP JSON, or protobuf when
// OTLP_PROTOCOL=proto.
import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import OpenAI from 'openai';

const exporter = process.env.OTLP_PROTOCOL === 'proto' ? new ProtoExporter() : new JsonExporter();
const sdk = new NodeSDK({ serviceName: 'weather-agent', traceExporter: exporter });
sdk.start();
const tracer = trace.getTracer('weather-agent', '1.0.0');
const openai = new OpenAI({ maxRetries: 0 });

function traceHeaders() {
  const headers = {};
  propagation.inject(context.active(), headers);
  return headers;
}

await tracer.startActiveSpan('invoke_agent weather', async (agent) => {
  agent.setAttribute('gen_ai.operation.name', 'invoke_agent');
  const answer = await tracer.startActiveSpan('chat gpt-4o', async (chat) => {
    chat.setAttributes({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' });
    const r = await openai.chat.completions.create(
      { model: 'gpt-4o', temperature: 0, messages: [{ role: 'user', content: 'Weather in Paris?' }] },
      { headers: traceHeaders() },
    );
    chat.setAttribute('gen_ai.response.id', r.id);
    chat.end();
    return r.choices[0].message.content;
  });
  console.log('model:', answer);
  tracer.startActiveSpan('execute_tool get_weather', (tool) => {
    tool.setAttributes({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'get_weather',
      'gen_ai.tool.call.arguments': '{"city":"Paris"}',
    });
    tool.end();
  });
  tracer.startActiveSpan('lookup forecast', (step) => {
    step.recordException(new Error('forecast service down'));
    step.setStatus({ code: SpanStatusCode.ERROR, message: 'forecast service down' });
    step.setAttribute('error.type', 'ServiceDown');
    step.end();
  });
  agent.end();
});
await sdk.shutdown();
console.log('done');
