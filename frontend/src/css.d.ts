// esbuild loads .css files as text (build.mjs); the stylesheet is installed via textContent.
declare module "*.css" {
  const text: string;
  export default text;
}
