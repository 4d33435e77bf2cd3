// A node:test reporter that prints one JSON line per finished test or suite: name, nesting,
// type ("test" or "suite") and ok. Used by scripts/check-isolation.mjs.
export default async function* reporter(source) {
  for await (const event of source) {
    if (event.type === 'test:pass' || event.type === 'test:fail') {
      yield (
        JSON.stringify({
          name: event.data.name,
          nesting: event.data.nesting,
          type: event.data.details?.type ?? 'test',
          ok: event.type === 'test:pass',
          file: event.data.file,
        }) + '\n'
      );
    }
  }
}
