/** The TypeScript module at `entry` bundled into one JavaScript module: the URL to import it (or start a Worker) from. */
export function bundledModuleUrl(entry: URL): Promise<URL>;
