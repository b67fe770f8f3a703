import { Platform1795896907293 } from './1795896907293-Platform.js';

/** Every migration in order; listed explicitly because ESM builds cannot be globbed reliably. */
export const migrations = [Platform1795896907293];
