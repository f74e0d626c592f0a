declare module 'asl-validator' {
  interface AslValidatorOptions {
    checkPaths?: boolean;
    checkArn?: boolean;
  }
  interface AslValidatorResult {
    isValid: boolean;
    errors: { message?: string; [key: string]: unknown }[];
    errorsText: (separator?: string) => string;
  }
  export default function aslValidator(definition: unknown, options?: AslValidatorOptions): AslValidatorResult;
}
