import { Duration } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface PipelineFunctionProps {
  /** Folder under functions/handlers/ holding index.ts. */
  readonly handler: string;
  readonly description: string;
  readonly environment?: Record<string, string>;
  /** Default 1 minute. */
  readonly timeout?: Duration;
  /** Default 512 MB. */
  readonly memorySize?: number;
  /** Bundle the Parquet WebAssembly and sql/ next to the code. Default false. */
  readonly needsParquet?: boolean;
  readonly needsSql?: boolean;
  /** Further repository files to place next to the code (Chart.js for the report). */
  readonly extraFiles?: readonly string[];
}

/**
 * One Lambda function of the pipeline with the defaults every function shares: the latest
 * Node.js runtime, arm64, X-Ray tracing, a log group kept for a month, and esbuild bundling on
 * the build machine (never Docker).
 */
export class PipelineFunction extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    const copies: string[] = [];
    // parquet-wasm reads its .wasm from the working directory of the bundle: /var/task in Lambda.
    if (props.needsParquet) copies.push('node_modules/parquet-wasm/node/parquet_wasm_bg.wasm');
    copies.push(...(props.extraFiles ?? []));
    const bundling: NodejsFunctionProps['bundling'] = {
      format: OutputFormat.CJS,
      target: 'node24',
      minify: true,
      sourceMap: true,
      forceDockerBundling: false,
      // The AWS SDK v3 is part of the runtime; everything else is bundled.
      externalModules: ['@aws-sdk/*'],
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (inputDir: string, outputDir: string) => [
          ...copies.map((file) => `cp "${inputDir}/${file}" "${outputDir}/"`),
          ...(props.needsSql ? [`cp -r "${inputDir}/sql" "${outputDir}/sql"`] : []),
        ],
      },
    };
    this.function = new NodejsFunction(this, 'Function', {
      entry: `${ROOT}functions/handlers/${props.handler}/index.ts`,
      projectRoot: ROOT,
      depsLockFilePath: `${ROOT}package-lock.json`,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(1),
      tracing: Tracing.ACTIVE,
      logGroup: new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH }),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.handler,
        ...(props.needsSql ? { SQL_DIRECTORY: '/var/task/sql' } : {}),
        ...props.environment,
      },
      bundling,
    });
  }
}
