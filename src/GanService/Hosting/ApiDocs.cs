using System.Reflection;
using Microsoft.OpenApi;

namespace GanService.Hosting;

public static class ApiDocs
{
    public static WebApplicationBuilder AddApiDocs(this WebApplicationBuilder builder)
    {
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(swagger =>
        {
            swagger.SwaggerDoc(
                "v1",
                new OpenApiInfo
                {
                    Title = "GanService",
                    Version = "v1",
                    Description = "Train GANs on request and sample PNGs from any stored generator.",
                }
            );
            // Swagger UI's Authorize button sends the key with every try-it-out request.
            swagger.AddSecurityDefinition(
                Auth.ApiKeyAuthentication.SchemeName,
                new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = Auth.ApiKeyAuthentication.Header,
                    Description =
                        "An API key (or the admin key). Not needed while Gan:Auth:Enabled is false, nor for public "
                        + "generators' images.",
                }
            );
            swagger.AddSecurityRequirement(document => new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(Auth.ApiKeyAuthentication.SchemeName, document)] = [],
            });
            swagger.OperationFilter<RequestExamples>();
            var xml = Path.Combine(AppContext.BaseDirectory, $"{Assembly.GetExecutingAssembly().GetName().Name}.xml");
            if (File.Exists(xml))
                swagger.IncludeXmlComments(xml);
        });
        return builder;
    }

    public static WebApplication UseApiDocs(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(ui => ui.DocumentTitle = "GanService API");
        return app;
    }
}
