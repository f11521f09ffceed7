#!/usr/bin/env node
// Checks responses a real mailerd gave against docs/openapi.yaml with Ajv
// (JSON Schema 2020-12, the dialect of OpenAPI 3.1), a validator that shares
// nothing with mailerd. Run by the integration test "openapi: ..."
// (tests/integration/openapi_responses_test.cpp), which records the responses.
//
// Usage: node validate_responses.js OPENAPI_YAML RESPONSES_JSON
//
// RESPONSES_JSON is an array of {method, path, status, headers, body}: `path`
// is the document's path template ("/v1/templates/{id}"), `headers` an object
// of lower-case names, `body` the text received. Each response must be one the
// document declares for that operation and status: its media type, its body
// against the schema, every header declared `required`, and every declared
// header present against its schema. A 405 answers a method the path has no
// operation for; it is checked against the path's operations, which must all
// declare it alike. Then every (operation, status) the document declares must
// have been seen, apart from the few listed in k_not_exercised.
//
// Exit status: 0 when all holds, 1 with one line per problem otherwise.
'use strict';

const fs = require('fs');
const YAML = require('yaml');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

// Statuses a black-box test cannot provoke on every operation; each is tested
// where it can be (http_hardening_test: the connection-limit 503).
const k_not_exercised = new Map([
  ['500', 'only a bug answers 500'],
  ['503', 'a busy or unavailable database or a full connection table, not tied to an operation'],
]);
// Operations that do answer one of those statuses on their own and are
// therefore exercised all the same.
const k_exercised_anyway = new Set(['GET /ready 503']);

const k_methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const k_schema_base = 'https://mailerd.dev/openapi.json';

function main(argv) {
  if (argv.length !== 2) {
    console.error('usage: validate_responses.js OPENAPI_YAML RESPONSES_JSON');
    return 2;
  }
  const doc = YAML.parse(fs.readFileSync(argv[0], 'utf8'), { maxAliasCount: -1 });
  const responses = JSON.parse(fs.readFileSync(argv[1], 'utf8'));
  const checker = new Checker(doc);
  const problems = [];
  const seen = new Set();
  for (const [index, response] of responses.entries()) {
    const where = `#${index} ${response.method} ${response.path} ${response.status}`;
    for (const problem of checker.check(response, seen)) problems.push(`${where}: ${problem}`);
  }
  for (const op of checker.declared()) {
    const status = op.split(' ')[2];
    if (!seen.has(op) && !(k_not_exercised.has(status) && !k_exercised_anyway.has(op))) {
      problems.push(`${op}: declared but never exercised`);
    }
  }
  for (const line of problems) console.log(line);
  console.log(`${responses.length} responses, ${seen.size} (operation, status) pairs seen, ${problems.length} problems`);
  return problems.length === 0 ? 0 : 1;
}

class Checker {
  constructor(doc) {
    this.doc = doc;
    this.ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(this.ajv);
    // OpenAPI 3.1's own schema keywords (its dialect's vocabulary).
    this.ajv.addVocabulary(['discriminator', 'xml', 'externalDocs', 'example']);
    // The document's schemas as one resource: `#/components/schemas/X`
    // becomes `<base>#/$defs/X`, so inline schemas can point into it.
    const defs = rewriteRefs(structuredClone(doc.components.schemas));
    this.ajv.addSchema({ $id: k_schema_base, $defs: defs });
    this.compiled = new Map();
  }

  // "METHOD /path STATUS" for every response the document declares.
  *declared() {
    for (const [path, item] of Object.entries(this.doc.paths)) {
      for (const method of k_methods) {
        if (!item[method]) continue;
        for (const status of Object.keys(item[method].responses)) yield `${method.toUpperCase()} ${path} ${status}`;
      }
    }
  }

  *check(response, seen) {
    const item = this.doc.paths[response.path];
    if (!item) return yield 'the document has no such path';
    const status = String(response.status);
    const method = response.method.toLowerCase();
    let declared;
    if (status === '405') {
      if (item[method]) return yield `405 for a method the path documents`;
      const operations = k_methods.filter((m) => item[m]);
      const answers = operations.map((m) => this.resolve(item[m].responses['405']));
      if (answers.some((a) => a === undefined)) return yield 'an operation of this path does not declare 405';
      if (answers.some((a) => JSON.stringify(a) !== JSON.stringify(answers[0])))
        return yield 'the operations of this path declare different 405 answers';
      for (const m of operations) seen.add(`${m.toUpperCase()} ${response.path} 405`);
      declared = answers[0];
      const allow = (response.headers.allow || '').split(', ').sort().join(', ');
      const want = operations.map((m) => m.toUpperCase()).sort().join(', ');
      if (allow !== want) yield `Allow is "${response.headers.allow}", the document has ${want}`;
    } else {
      if (!item[method]) return yield 'the document has no such operation';
      declared = this.resolve(item[method].responses[status]);
      if (!declared) return yield 'status not declared for this operation';
      seen.add(`${method.toUpperCase()} ${response.path} ${status}`);
    }
    yield* this.checkHeaders(declared.headers || {}, response.headers);
    yield* this.checkBody(declared.content, response);
  }

  *checkHeaders(declared, received) {
    for (const [name, ref] of Object.entries(declared)) {
      const header = this.resolve(ref);
      const value = received[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) yield `required header ${name} missing`;
        continue;
      }
      const schema = header.schema || {};
      const typed = schema.type === 'integer' && /^-?[0-9]+$/.test(value) ? Number(value) : value;
      yield* this.validate(schema, typed, `header ${name}`);
    }
  }

  *checkBody(content, response) {
    const type = (response.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    if (!content) {
      if (response.body !== '') yield `a body (${type}) where the document declares none`;
      return;
    }
    const media = content[type];
    if (!media) return yield `content type "${type}" not declared (${Object.keys(content).join(', ')})`;
    if (!media.schema) return;
    let value = response.body;
    if (type === 'application/json' || type.endsWith('+json')) {
      try {
        value = JSON.parse(response.body);
      } catch (e) {
        return yield `body is not JSON: ${e.message}`;
      }
    }
    yield* this.validate(media.schema, value, 'body');
  }

  *validate(schema, value, what) {
    const key = JSON.stringify(schema);
    if (!this.compiled.has(key)) this.compiled.set(key, this.ajv.compile(rewriteRefs(structuredClone(schema))));
    const validate = this.compiled.get(key);
    if (validate(value)) return;
    for (const e of validate.errors) yield `${what}${e.instancePath} ${e.message} (${e.schemaPath})`;
  }

  // Follows a local `$ref` (#/components/...) to what it names.
  resolve(node) {
    while (node && node.$ref) {
      if (!node.$ref.startsWith('#/')) throw new Error(`not a local $ref: ${node.$ref}`);
      node = node.$ref
        .slice(2)
        .split('/')
        .reduce((at, part) => at && at[part.replace(/~1/g, '/').replace(/~0/g, '~')], this.doc);
    }
    return node;
  }
}

function rewriteRefs(node) {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) {
      node[key] = `${k_schema_base}#/$defs/${value.slice('#/components/schemas/'.length)}`;
    } else {
      node[key] = rewriteRefs(value);
    }
  }
  return node;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  // A document Ajv cannot compile (strict mode) or unreadable input.
  console.log(`validate_responses: ${e.message}`);
  process.exitCode = 2;
}
