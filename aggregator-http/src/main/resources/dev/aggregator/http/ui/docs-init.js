// Swagger UI pointed at this server's own OpenAPI document. validatorUrl null: by default Swagger
// UI asks validator.swagger.io for a badge, a request outside the server.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '{{base}}/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    requestInterceptor: function (req) {
      // The dashboard's API key, when one was entered there, so "Try it out" works too.
      var key = window.sessionStorage.getItem('aggregator.apiKey');
      if (key && !req.headers['X-API-Key'] && !req.headers['Authorization']) {
        req.headers['X-API-Key'] = key;
      }
      return req;
    }
  });
});
