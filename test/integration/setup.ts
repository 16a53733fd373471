/** Runs around every integration test file: what the file's tests left in the temp dir goes when it ends. */
import { afterAll } from 'vitest';
import { removeTempDirs } from './agent-harness.js';

afterAll(removeTempDirs);
