// Proves that schemas/dataproduct.schema.json agrees with meshwork's spec parser (src/product/spec.cc):
//   - the scaffold of `meshwork product init` and every examples/**/dataproduct.yaml are valid;
//   - a set of variants the parser accepts (x- extensions, yes/no booleans, merge/append modes,
//     nested types, ...) is valid;
//   - a set of broken specs is rejected, each for the reason the parser gives.
// Every verdict is checked against the real parser too: `meshwork product validate` on a fresh
// mesh parses the spec first, so a spec the parser accepts fails only later, at "domain ... does
// not exist", and a spec it rejects fails with its error message.
//
// Run (after `npm install` in tests/e2e, with a built binary), from any directory:
//   node tests/product/spec_schema_test.mjs build/meshwork
// or MESHWORK_BIN=build/meshwork instead of the argument. Exits non-zero on any mismatch.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
// The packages live in tests/e2e/node_modules (tests/e2e/package.json): resolve them from there,
// so the test runs from any directory without NODE_PATH.
const require = createRequire(join(root, 'tests', 'e2e', 'package.json'));
const { default: Ajv2020 } = await import(require.resolve('ajv/dist/2020.js'));
const { load: loadYaml } = await import(require.resolve('js-yaml'));

const binary = resolve(process.argv[2] || process.env.MESHWORK_BIN || join(root, 'build', 'meshwork'));
const schemaPath = join(root, 'schemas', 'dataproduct.schema.json');

const failures = [];
const fail = (message) => {
  failures.push(message);
  console.log(`FAIL ${message}`);
};

// The binary may be briefly missing while it is rebuilt: wait for it a little.
for (let i = 0; i < 30 && !existsSync(binary); ++i) spawnSync('sleep', ['1']);
if (!existsSync(binary)) {
  console.error(`meshwork binary not found at ${binary} (pass it as the first argument or MESHWORK_BIN)`);
  process.exit(2);
}

// strictTuples off: `ports` is an open tuple by design (the first port differs from the rest).
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTuples: false, allowUnionTypes: true });
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));

const scratch = mkdtempSync(join(tmpdir(), 'spec-schema-'));
const dataDir = join(scratch, 'mesh');
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

function schemaErrors(text) {
  let document;
  try {
    document = loadYaml(text);
  } catch (error) {
    return [`YAML: ${error.message.split('\n')[0]}`];
  }
  if (validate(document)) return [];
  const shorten = (text) => (text.length > 100 ? `${text.slice(0, 97)}...` : text);
  return validate.errors.map((e) => shorten(`${e.instancePath || '/'} ${e.message}${e.params && e.params.additionalProperty ? ` '${e.params.additionalProperty}'` : ''}`));
}

// The parser's verdict: null when it accepts the spec, else its message.
function parserError(folder) {
  const run = spawnSync(binary, ['--data-dir', dataDir, 'product', 'validate', folder], { encoding: 'utf8' });
  const message = (run.stderr.split('\n').find((line) => line.startsWith('meshwork: ')) || '').trim();
  // On an empty mesh a spec the parser accepts can still fail on what the mesh lacks: its domain
  // or the ports it reads. Those are not the parser's verdict.
  if (run.status === 0 || /not_found: domain '[a-z0-9_]+' does not exist/.test(message) ||
      /not_found: .*: input port [a-z0-9_.]+ \(major [0-9]+\) is not published/.test(message) ||
      /not_found: .*: input port [a-z0-9_.]+ \(major [0-9]+\) is not published/.test(message)) return null;
  return message || `exit ${run.status}: ${run.stderr.trim()}`;
}

// The scaffold, the basis of the variants below.
const scaffold = join(scratch, 'scaffold');
execFileSync(binary, ['product', 'init', 'x/y', '--dir', scaffold], { stdio: 'pipe' });
const base = readFileSync(join(scaffold, 'dataproduct.yaml'), 'utf8');

let variants = 0;
function variant(edits) {
  let text = base;
  for (const [from, to] of edits) {
    const found = from instanceof RegExp ? from.test(text) : text.includes(from);
    if (!found) throw new Error(`the scaffold no longer contains ${from instanceof RegExp ? from : JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  const folder = join(scratch, `variant_${++variants}`);
  cpSync(scaffold, folder, { recursive: true });
  writeFileSync(join(folder, 'dataproduct.yaml'), text);
  return { folder, text };
}

function expectValid(label, folder, text) {
  const errors = schemaErrors(text);
  const parser = parserError(folder);
  if (errors.length > 0) fail(`${label}: the schema rejects it:\n    ${errors.join('\n    ')}`);
  if (parser !== null) fail(`${label}: the parser rejects it: ${parser}`);
  if (errors.length === 0 && parser === null) console.log(`ok   valid    ${label}`);
}

function expectInvalid(label, edits, parserSays) {
  const { folder, text } = variant(edits);
  const errors = schemaErrors(text);
  const parser = parserError(folder);
  if (errors.length === 0) fail(`${label}: the schema accepts it`);
  if (parser === null) fail(`${label}: the parser accepts it (the case is wrong)`);
  else if (!parser.includes(parserSays)) fail(`${label}: the parser says ${JSON.stringify(parser)}, expected ${JSON.stringify(parserSays)}`);
  if (errors.length > 0 && parser !== null && parser.includes(parserSays)) {
    console.log(`ok   rejected ${label} (schema: ${errors[0]}; parser: ${parserSays})`);
  }
}

// 1. The scaffold and every example.
expectValid('scaffold of `meshwork product init x/y`', scaffold, base);
function* specsUnder(folder) {
  if (!existsSync(folder)) return;
  for (const entry of readdirSync(folder).sort()) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) yield* specsUnder(path);
    else if (entry === 'dataproduct.yaml') yield path;
  }
}
let examples = 0;
for (const spec of specsUnder(join(root, 'examples'))) {
  ++examples;
  expectValid(relative(root, spec), dirname(spec), readFileSync(spec, 'utf8'));
}
console.log(`(${examples} example specs found under examples/)`);

// 2. Variants the parser accepts: the schema must not be stricter than it.
const valid = [
  ['x- extensions at every level', [
    ['kind: DataProduct\n', 'kind: DataProduct\nx-cost-center: 4711\n'],
    ['  team: x\n', '  team: x\n  x-slack: "#x"\n'],
    ['    file: data/orders.csv\n', '    file: data/orders.csv\n    x-note: daily export\n'],
    ['  sql_file: transform.sql\n', '  sql_file: transform.sql\n  x-reviewed: true\n'],
    ['    description: One row', '    x-tier: gold\n    description: One row'],
    ['{name: orders, type: long,', '{name: orders, x-unit: count, type: long,'],
    ['{rule: row_count, min: 1}', '{rule: row_count, min: 1, x-ticket: DATA-1}'],
    ['  freshness: 1d\n', '  freshness: 1d\n  x-pager: oncall\n'],
  ]],
  ['yes/no booleans, severity warning, quoted numbers, rule description', [
    ['{name: orders, type: long, nullable: false,', '{name: orders, type: long, nullable: no,'],
    ['{rule: row_count, min: 1}', '{rule: row_count, min: "1", max: 1e9, severity: warning, description: at least a row}'],
  ]],
  ['file options, explicit format, nested types, partitioning and sort', [
    ['    file: data/orders.csv\n', '    file: data/orders.csv\n    format: csv\n    options: {header: true, delim: ",", skip: 0}\n'],
    ['{name: orders, type: long,', '{name: orders, type: BIGINT,'],
    ['    partitioning: month(order_date)\n', '    partitioning: "bucket(16, country), month(order_date)"\n    sort: order_date desc nulls last, country\n'],
  ]],
  ['inline SQL with getvariable, mode merge on keys, port input at major 2', [
    ['  sql_file: transform.sql\n', "  sql: |\n    SELECT * FROM raw_orders WHERE getvariable('day') IS NULL\n  mode: merge\n  keys: [order_date, country]\n"],
    ['inputs:\n', 'inputs:\n  - {name: customers, port: customers.customers, major: 2}\n'],
  ]],
  ['mode append with a watermark, every rule kind, sla, links', [
    ['  sql_file: transform.sql\n', '  sql_file: transform.sql\n  mode: append\n  watermark: order_date\n'],
    ['  - {rule: row_count, min: 1}\n', [
      '  - {rule: row_count, min: 1}',
      '  - {rule: not_null, columns: [orders, revenue]}',
      '  - {rule: unique, columns: [order_date, country], name: one_row_per_day_and_country}',
      '  - {rule: regex, column: country, pattern: "[A-Z]{2}"}',
      '  - {rule: freshness, column: order_date, max_age: 2d, severity: warn}',
      '  - {rule: references, column: country, reference: geo.countries.code}',
      '  - {rule: sql, name: no_negative_orders, sql: "SELECT * FROM y WHERE orders < 0"}',
      ''].join('\n')],
    ['  schedule: "0 6 * * *"', '  schedule: "*/15 0-6,22 1 1-12/2 0"'],
    ['sample_queries:', 'links:\n  - {title: Dashboard, url: "https://bi.example.com/y"}\nsample_queries:'],
  ]],
];
for (const [label, edits] of valid) {
  const { folder, text } = variant(edits);
  expectValid(label, folder, text);
}

// 3. Broken specs: both must reject them (the parser's message is the part after "file:line:column:").
const invalid = [
  ['unknown top-level key', [['tags: [example]', 'tagz: [example]']], "unknown key 'tagz' in the spec"],
  ['unknown key in owner', [['  team: x\n', '  team: x\n  slack: "#x"\n']], "unknown key 'slack' in 'owner'"],
  ['unknown key in a column', [['semantic_type: currency', 'semantic: currency']], "unknown key 'semantic' in a column"],
  ['wrong type: tags is not a list', [['tags: [example]', 'tags: example']], "'tags' must be a list"],
  ['wrong type: owner is text', [['owner:\n  team: x\n  email: x@example.com\n', 'owner: x\n']], "'owner' must be a mapping"],
  ['bad version 1.0', [['version: 1.0.0', 'version: 1.0']], 'is not a semantic version'],
  ['version 0.1.0', [['version: 1.0.0', 'version: 0.1.0']], 'the major version starts at 1'],
  ['wrong apiVersion', [['apiVersion: meshwork/v1', 'apiVersion: meshwork/v2']], "apiVersion 'meshwork/v2' is not supported"],
  ['missing owner', [['owner:\n  team: x\n  email: x@example.com\n', '']], "the spec is missing 'owner'"],
  ['bad product name', [['name: y\n', 'name: Y-1\n']], "product name 'Y-1' is not a valid name"],
  ['accepted_values without values', [['{rule: accepted_values, column: country, values: [DE, FR, NL, ES]}', '{rule: accepted_values, column: country}']], "rule accepted_values needs 'values'"],
  ['range without min or max', [['{rule: range, column: revenue, min: 0}', '{rule: range, column: revenue}']], "rule range needs 'min', 'max' or both"],
  ['unknown rule kind', [['rule: range', 'rule: ranges']], "unknown quality rule 'ranges'"],
  ['column and columns together', [['{rule: range, column: revenue, min: 0}', '{rule: not_null, column: revenue, columns: [orders]}']], "a rule takes 'column' or 'columns', not both"],
  ['bad severity', [['{rule: row_count, min: 1}', '{rule: row_count, min: 1, severity: fatal}']], "severity 'fatal' is not error or warn"],
  ['references without domain.port.column', [['{rule: row_count, min: 1}', '{rule: references, column: country, reference: countries.code}']], "rule references needs 'reference: domain.port.column'"],
  ['not an Iceberg type', [['type: long,', 'type: lng,']], "'lng' is not an Iceberg type"],
  ['nullable primary key', [['primary_key: true, description: The day', 'primary_key: true, nullable: true, description: The day']], "primary key column 'order_date' cannot be nullable"],
  ['input with file and port', [['    file: data/orders.csv\n', '    file: data/orders.csv\n    port: a.b\n']], "needs exactly one of 'file' or 'port'"],
  ['input path leaving the folder', [['file: data/orders.csv', 'file: ../orders.csv']], 'must be a path inside the product folder'],
  ['options on a port input', [['    file: data/orders.csv\n', '    port: a.b\n    options: {header: true}\n']], "'format' and 'options' are for files"],
  ['mode append without a watermark', [['  sql_file: transform.sql\n', '  sql_file: transform.sql\n  mode: append\n']], "mode append needs a 'watermark' column"],
  ['keys without mode merge', [['  sql_file: transform.sql\n', '  sql_file: transform.sql\n  keys: [country]\n']], "'keys' is only for mode merge"],
  ['sql and sql_file together', [['  sql_file: transform.sql\n', '  sql_file: transform.sql\n  sql: SELECT 1\n']], "needs exactly one of 'sql' or 'sql_file'"],
  ['unknown mode', [['  sql_file: transform.sql\n', '  sql_file: transform.sql\n  mode: upsert\n']], "mode 'upsert' is not one of full, append, merge"],
  ['bad duration', [['freshness: 1d', 'freshness: one day']], "'one day' is not a duration"],
  ['bad cron', [['"0 6 * * *"', '"0 25 * * *"']], "cron hour field '25' is not valid"],
  ['availability above 100', [['availability: 99.5', 'availability: 150']], "'availability' is a percentage"],
  ['empty ports', [[/ports:\n[\s\S]*?(?=quality:)/, 'ports: []\n']], "the spec needs 'ports'"],
  ['a rule without port when there are two ports', [['quality:\n', '  - name: extra\n    sql: SELECT 1 AS a\n    columns: [{name: a, type: int}]\nquality:\n']], "rule 'range' must name its 'port'"],
  ['a second port without sql', [['quality:\n', '  - name: extra\n    columns: [{name: a, type: int}]\nquality:\n']], "port 'extra' needs 'sql' or 'sql_file'"],
  ['sql on the first port', [['    description: One row per order day and country.\n', '    description: One row per order day and country.\n    sql: SELECT 1\n']], "is computed by 'transform'; only further ports take 'sql' or 'sql_file'"],
  ['bad partition transform', [['partitioning: month(order_date)', 'partitioning: week(order_date)']], "unknown transform 'week'"],
  ['sample query without sql', [['    sql: SELECT country', '    query: SELECT country']], "unknown key 'query' in a sample query"],
];
for (const [label, edits, parserSays] of invalid) expectInvalid(label, edits, parserSays);

if (failures.length > 0) {
  console.log(`\n${failures.length} mismatches between the schema and the parser`);
  process.exit(1);
}
console.log(`\nall ${1 + examples + valid.length} valid and ${invalid.length} invalid specs agree with the parser`);
