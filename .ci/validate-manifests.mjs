// Checks every object in deploy/kubernetes/*.yaml against the Kubernetes API schemas bundled in
// the npm package kubernetes-models (compiled from the Kubernetes OpenAPI definitions, so it
// works offline): required fields, types, enums and formats. Exits 1 naming each finding.
// Fields the schema does not know are not reported (the schemas allow them).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const dir = process.argv[2] ?? 'deploy/kubernetes';
const files = readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort();
let checked = 0;
const findings = [];

for (const name of files) {
  const path = join(dir, name);
  for (const [index, document] of parseAllDocuments(readFileSync(path, 'utf8')).entries()) {
    const where = `${path} (document ${index + 1})`;
    if (document.errors.length > 0) {
      findings.push(`${where}: not valid YAML: ${document.errors.map((e) => e.message).join('; ')}`);
      continue;
    }
    const object = document.toJS();
    if (object === null) {
      continue;
    }
    const { apiVersion, kind } = object;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
      findings.push(`${where}: no apiVersion or kind`);
      continue;
    }
    let models;
    try {
      models = await import(`kubernetes-models/${apiVersion}`);
    } catch {
      findings.push(`${where}: unknown apiVersion ${apiVersion}`);
      continue;
    }
    const Model = models[kind];
    if (typeof Model !== 'function') {
      findings.push(`${where}: unknown kind ${kind} in ${apiVersion}`);
      continue;
    }
    try {
      new Model(object).validate();
      checked++;
    } catch (e) {
      findings.push(`${where}: ${kind} ${object.metadata?.name ?? ''}: ${e.message}`);
    }
  }
}

if (checked === 0 && findings.length === 0) {
  findings.push(`${dir}: no Kubernetes object found`);
}
for (const finding of findings) {
  console.error(finding);
}
console.log(`Kubernetes manifests: ${checked} objects valid, ${findings.length} findings`);
process.exit(findings.length === 0 ? 0 : 1);
