// @ts-check
/**
 * The project's schematics collection (nest-cli.json "collection"): every @nestjs/schematics
 * generator, run unchanged, then Prettier over the files it created or changed, with the
 * project's .prettierrc. The schematics write object literals without trailing commas (e.g. the
 * `imports: [ReviewsModule]` they add to app.module.ts), which `npm run lint` would reject; with
 * this, `nest g module|service|controller|resource <name>` leaves the code base formatted.
 */
const { chain, externalSchematic } = require('@angular-devkit/schematics');
const prettier = require('prettier');
const { join } = require('node:path');

/** @type {(options: Record<string, unknown>) => import('@angular-devkit/schematics').Rule} */
exports.formatted = (options) => (_tree, context) =>
  chain([
    externalSchematic('@nestjs/schematics', context.schematic.description.name, options),
    formatChanges(),
  ]);

/** Prettier over every file created or overwritten so far in this run (Prettier's own file types only). */
function formatChanges() {
  /** @type {import('@angular-devkit/schematics').Rule} */
  return async (tree) => {
    const paths = new Set();
    for (const action of tree.actions) if (action.kind === 'c' || action.kind === 'o') paths.add(action.path);
    for (const path of paths) {
      const file = join(process.cwd(), path);
      const info = await prettier.getFileInfo(file, { ignorePath: join(process.cwd(), '.prettierignore') });
      if (info.ignored || !info.inferredParser) continue;
      const source = tree.readText(path);
      const config = (await prettier.resolveConfig(file)) ?? {};
      const output = await prettier.format(source, { ...config, filepath: file });
      if (output !== source) tree.overwrite(path, output);
    }
  };
}
