// X's own rules for a post, from npm's twitter-text: reads a JSON list of texts on standard
// input, writes for each its parseTweet() result and the mentions X would link.
import twitter from 'twitter-text';
import { readFileSync } from 'node:fs';

const texts = JSON.parse(readFileSync(0, 'utf8'));
const out = texts.map((text) => ({
  ...twitter.parseTweet(text),
  // As X links them: a mention inside a URL is part of the link.
  mentions: twitter
    .extractEntitiesWithIndices(text)
    .filter((entity) => entity.screenName)
    .map((entity) => entity.screenName),
}));
process.stdout.write(JSON.stringify(out));
