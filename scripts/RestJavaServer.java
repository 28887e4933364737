// Iceberg's reference REST catalog server (RESTCatalogServer of iceberg-open-api's
// test fixtures) on one address, for firn's interop tests and benchmarks.
//
// RESTCatalogServer.main listens on every interface; this launcher makes the same
// backend (RESTCatalogServer's own catalog set-up: a JdbcCatalog from the CATALOG_*
// environment variables, e.g. CATALOG_URI=jdbc:sqlite:FILE and CATALOG_WAREHOUSE=DIR)
// and the same servlet and gzip handler, but on a connector bound to HOST only.
// Those classes are package-private, hence the reflection. Run by Java's
// source-file launcher (scripts/rest_java_server.sh):
//   java -cp JARS scripts/RestJavaServer.java HOST PORT
// PORT 0 takes a free port; once it listens it prints "listening on http://HOST:PORT"
// on stdout.
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import org.eclipse.jetty.compression.gzip.GzipCompression;
import org.eclipse.jetty.compression.server.CompressionHandler;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public class RestJavaServer {
	public static void main(String[] args) throws Exception {
		if (args.length != 2) {
			System.err.println("usage: RestJavaServer HOST PORT");
			System.exit(2);
		}
		String pkg = "org.apache.iceberg.rest.";
		Class<?> serverClass = Class.forName(pkg + "RESTCatalogServer");
		Constructor<?> serverNew = serverClass.getDeclaredConstructor();
		serverNew.setAccessible(true);
		Method backend = serverClass.getDeclaredMethod("initializeBackendCatalog");
		backend.setAccessible(true);
		Object context = backend.invoke(serverNew.newInstance());

		Class<?> contextClass = Class.forName(pkg + "RESTCatalogServer$CatalogContext");
		Constructor<?> adapterNew = Class.forName(pkg + "RESTServerCatalogAdapter")
				.getDeclaredConstructor(contextClass);
		adapterNew.setAccessible(true);
		Object adapter = adapterNew.newInstance(context);
		Class<?> adapterClass = Class.forName(pkg + "RESTCatalogAdapter");
		jakarta.servlet.Servlet servlet = (jakarta.servlet.Servlet) Class
				.forName(pkg + "RESTCatalogServlet").getConstructor(adapterClass)
				.newInstance(adapter);

		ServletContextHandler handler =
				new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
		handler.addServlet(new ServletHolder(servlet), "/*");
		CompressionHandler gzip = new CompressionHandler();
		gzip.putCompression(new GzipCompression());
		handler.insertHandler(gzip);

		Server http = new Server();
		ServerConnector connector = new ServerConnector(http);
		connector.setHost(args[0]);
		connector.setPort(Integer.parseInt(args[1]));
		http.addConnector(connector);
		http.setHandler(handler);
		http.setStopAtShutdown(true);
		http.start();
		System.out.println("listening on http://" + args[0] + ":" + connector.getLocalPort());
		System.out.flush();
		http.join();
	}
}
