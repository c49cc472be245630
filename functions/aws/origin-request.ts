// Placeholder: the origin-request handler is being written (issue 4). The bundler and the CDK app use this path.
export const handler = async (): Promise<never> => {
  throw new Error('not built yet');
};
