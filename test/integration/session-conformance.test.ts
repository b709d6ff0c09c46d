// Gas City's session conformance suite (session-conformance-suite.ts), pods made per start.
import { sessionConformance } from './session-conformance-suite.js';

sessionConformance();
