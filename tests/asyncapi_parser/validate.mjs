// Validate AsyncAPI documents with AsyncAPI's own parser (and its Avro schema parser).
// Usage: node validate.mjs FILE...; prints one JSON object: {FILE: [diagnostic, ...], ...}.
// Severity follows Spectral: 0 error, 1 warning, 2 information, 3 hint.
import { Parser, fromFile } from '@asyncapi/parser';
import { AvroSchemaParser } from '@asyncapi/avro-schema-parser';

const parser = new Parser({ schemaParsers: [AvroSchemaParser()] });
const report = {};
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await fromFile(parser, file).parse();
  report[file] = {
    parsed: document !== undefined,
    channels: document ? document.channels().all().map((c) => c.address()) : [],
    diagnostics: diagnostics.map((d) => ({
      code: d.code,
      message: d.message,
      path: d.path,
      severity: d.severity,
    })),
  };
}
process.stdout.write(JSON.stringify(report));
