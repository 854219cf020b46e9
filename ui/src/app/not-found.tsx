export default function NotFound() {
  return (
    <main className="mx-auto max-w-md px-4 py-16 text-center">
      <h1 className="text-xl font-semibold">Page not found</h1>
      <p className="mt-2">
        <a href="/" className="text-blue-700 underline dark:text-blue-300">
          Back to your tasks
        </a>
      </p>
    </main>
  );
}
