// Multi-document YAML, as written: client-node's loadAllYaml parses with js-yaml and then turns
// each document into its generated model class, which renames fields (a LimitRange's `default`
// becomes `_default`) and drops fields the model does not know. Install must apply what the file
// says, so the documents are taken from js-yaml's parse events, before that conversion.

import { loadAllYaml } from '@kubernetes/client-node';
import { GcK8sError, messageOf } from '../errors.js';

/** The documents of `text` as plain JSON values (empty documents left out). */
export function parseYamlDocuments(text: string): unknown[] {
  const documents: unknown[] = [];
  let depth = 0;
  try {
    loadAllYaml(text, {
      // every node opens and closes; one that closes at the outermost level is a whole document
      listener: (event, state) => {
        depth += event === 'open' ? 1 : -1;
        if (event === 'close' && depth === 0) documents.push(state.result);
      },
    });
  } catch (err) {
    // the model conversion after a complete parse may throw on a document it has no class for
    // (an empty one); only js-yaml's own errors mean the text is not YAML
    if (err instanceof Error && err.name === 'YAMLException') {
      throw new GcK8sError('CONFIG_INVALID', `not valid YAML: ${messageOf(err).split('\n')[0] ?? ''}`);
    }
  }
  // JSON values only: a YAML timestamp (a Date) becomes the string the API server expects
  return documents.filter((d) => d !== null && d !== undefined).map((d) => JSON.parse(JSON.stringify(d)) as unknown);
}
