// Runs the Khronos glTF validator on a GLB: node validate_gltf.mjs VALIDATOR_DIR FILE -> the report as JSON.
import fs from 'fs';
import path from 'path';
import { pathToFileURL } from 'url';

const [dir, file] = process.argv.slice(2);
const validator = (await import(pathToFileURL(path.join(dir, 'index.js')).href)).default;
const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file)), { maxIssues: 100 });
console.log(JSON.stringify(report));
