export function playbookJsonSchema(): unknown { return {}; }
