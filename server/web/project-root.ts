// Where the files the server reads at start live (views/, locales/, public/): the directory of
// package.json above this module. The same answer from server/web (tsx, jest) and from
// dist/server/web (npm start), which sit at different depths.
import fs from 'node:fs';
import path from 'node:path';

export function projectRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'views'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no project root (package.json beside views/) above ${from}`);
    dir = up;
  }
}
