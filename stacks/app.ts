/** The CDK entry point (cdk.json: `npx tsx stacks/app.ts`). */
import { buildApp } from './build-app';

buildApp().app.synth();
