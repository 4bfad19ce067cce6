// Bluesky's own facets for a post, from npm's @atproto/api: reads a JSON list of texts on
// standard input, writes for each the facets RichText.detectFacets finds.  Mentions are not
// resolved to DIDs (that needs the network); their facets carry the handle instead.
import { RichText } from '@atproto/api';
import { readFileSync } from 'node:fs';

const texts = JSON.parse(readFileSync(0, 'utf8'));
const out = texts.map((text) => {
  const rich = new RichText({ text });
  rich.detectFacetsWithoutResolution();
  return rich.facets ?? [];
});
process.stdout.write(JSON.stringify(out));
