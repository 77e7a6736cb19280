/** The daily operations report (docs/reports.md): pure building and rendering, and saving to files. */
export * from './types.js';
export { buildDailyReport, parseTagRef } from './build.js';
export { renderReportMarkdown } from './markdown.js';
export { saveReport, DEFAULT_KEEP_DAYS, type SavedReport } from './save.js';
export { collectReportInput, produceDailyReport, type ReportContent, type ReportHistory } from './collect.js';
